/**
 * The filter language of `labnote ls --filter` and of the panel's History filter:
 * `lr<0.01 status=completed tag:v1 name~adam loss.min<0.1 hidden=64`. Terms are separated by
 * spaces and must all hold. Pure: both halves import it.
 *
 * - `key OP value`, OP one of `= != < <= > >= ~` (`:` is `=`). A key is, in this order:
 *   a field (`status`, `name`, `tag`/`tags`, `id`, `experiment`, `number`, `duration` in
 *   seconds, `notebook`); `config.<key>`; a config key as dotted in the config (`optimizer.lr`);
 *   the last segment of exactly one config key (`hidden` for `model.hidden`); a metric summary
 *   (`loss.last`, `loss.min`, `loss.max`, `loss.count`; bare `loss` is its last value). A config
 *   key wins over a metric of the same name.
 * - Numbers compare as numbers (`hidden=64` matches 64 and 64.0), other values as text; `=` on
 *   text ignores case; `~` is a case-insensitive substring, with `*` for any text and `^`/`$`
 *   anchoring, or a regular expression written `/…/`.
 * - A plain word matches the run's name, a tag or its id (substring, any case), or its status.
 *   A config key followed by a number (`hidden 64`, `lr 0.01`) reads as `key=number`.
 * - Values (and keys) may be quoted: `name="big model"`, `"val acc">0.5`.
 */
import { LabnoteError } from "./errors";
import { flattenConfig, isPlainObject } from "./json";
import { closestName } from "./suggest";
import type { MetricSummary, RunRecord } from "./record";

/** A comparison operator. */
export type QueryOp = "=" | "!=" | "<" | "<=" | ">" | ">=" | "~";

/** One term of a query; `column` is where it starts in the text (1-based). */
export type QueryTerm =
  | { kind: "compare"; key: string; op: QueryOp; value: string; column: number }
  | { kind: "word"; text: string; column: number }
  | { kind: "pair"; key: string; value: string; column: number };

/** A parsed query: every term must hold. */
export interface Query {
  readonly text: string;
  readonly terms: readonly QueryTerm[];
}

/** What a query reads of a run: a record, or any object with these fields. */
export type QueryRecord = Pick<RunRecord, "id" | "experiment" | "number" | "name" | "status" | "tags" | "config" | "metrics"> & Partial<Pick<RunRecord, "duration" | "notebook">>;

/** A query that cannot be parsed: the message names the column and shows a caret under it. */
export class QuerySyntaxError extends LabnoteError {
  /** 1-based column of the problem. */
  readonly column: number;
  /** The problem alone, without the text and caret. */
  readonly reason: string;
  constructor(text: string, column: number, reason: string) {
    super("INVALID_VALUE", "Invalid filter", `${reason} at column ${column}\n  ${text}\n  ${" ".repeat(Math.max(0, column - 1))}^`);
    this.column = column;
    this.reason = reason;
  }
}

const FIELDS = new Set(["status", "name", "tag", "tags", "id", "experiment", "number", "duration", "notebook"]);
const OP_CHARS = "=!<>~:";
const STATS = new Set(["last", "min", "max", "count"]);

/**
 * Parse a filter. Throws a {@link QuerySyntaxError} that says where the text is wrong.
 * @example parseQuery("lr<0.01 status=completed").terms.length // 2
 */
export function parseQuery(text: string): Query {
  const terms: QueryTerm[] = [];
  let i = 0;
  const n = text.length;
  const fail = (at: number, reason: string): never => {
    throw new QuerySyntaxError(text, at + 1, reason);
  };
  const quoted = (): string => {
    const q = text[i];
    const open = i;
    i++;
    let out = "";
    while (i < n && text[i] !== q) {
      if (text[i] === "\\" && i + 1 < n) i++;
      out += text[i++];
    }
    if (i >= n) fail(open, `unclosed ${q === '"' ? "double" : "single"} quote`);
    i++;
    return out;
  };
  while (i < n) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    const start = i;
    let key: string;
    let wasQuoted = false;
    if (text[i] === '"' || text[i] === "'") {
      key = quoted();
      wasQuoted = true;
    } else {
      while (i < n && !/\s/.test(text[i]) && !OP_CHARS.includes(text[i]) && text[i] !== '"' && text[i] !== "'") i++;
      key = text.slice(start, i);
      if (i < n && (text[i] === '"' || text[i] === "'")) fail(i, "a quote inside a word; put a space before it or quote the whole word");
    }
    if (i >= n || /\s/.test(text[i])) {
      if (key === "" && !wasQuoted) fail(start, "an empty term");
      terms.push({ kind: "word", text: key, column: start + 1 });
      continue;
    }
    // An operator follows.
    const opAt = i;
    let op: string = text[i];
    if ((op === "!" || op === "<" || op === ">") && text[i + 1] === "=") op += "=";
    if (op === "!") fail(opAt, 'a lone "!"; write != to compare');
    i += op.length;
    if (key === "") fail(opAt, `"${op}" needs a key before it, e.g. lr${op === ":" ? "=" : op}0.01`);
    let value: string;
    if (i < n && (text[i] === '"' || text[i] === "'")) value = quoted();
    else {
      const vs = i;
      while (i < n && !/\s/.test(text[i])) {
        if ("=<>!".includes(text[i]) || text[i] === '"' || text[i] === "'") fail(i, `unexpected "${text[i]}" in the value of ${key}; quote the value if it holds one`);
        i++;
      }
      value = text.slice(vs, i);
      if (value === "") fail(opAt, `"${op}" needs a value after it`);
    }
    if (i < n && !/\s/.test(text[i])) fail(i, "a term must end after its quoted value; put a space here");
    const norm = (op === ":" ? "=" : op) as QueryOp;
    const isTag = key === "tag" || key === "tags";
    if (isTag && norm !== "=" && norm !== "!=" && norm !== "~") fail(opAt, `tags compare with :, =, != or ~, not ${op}`);
    if (norm === "~" && value.length > 1 && value.startsWith("/") && value.endsWith("/")) {
      try {
        new RegExp(value.slice(1, -1), "i");
      } catch (e) {
        fail(opAt + op.length, `an invalid regular expression (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    terms.push({ kind: "compare", key, op: norm, value, column: start + 1 });
  }
  // A word that may be a config key followed by a number: `hidden 64`.
  const out: QueryTerm[] = [];
  for (let t = 0; t < terms.length; t++) {
    const a = terms[t];
    const b = terms[t + 1];
    if (a.kind === "word" && b?.kind === "word" && !FIELDS.has(a.text) && isNumberText(b.text) && !isNumberText(a.text)) {
      out.push({ kind: "pair", key: a.text, value: b.text, column: a.column });
      t++;
    } else out.push(a);
  }
  return { text, terms: out };
}

function isNumberText(s: string): boolean {
  return s.trim() !== "" && !Number.isNaN(Number(s)) ? true : s === "NaN";
}

/** How a key reads a record: the value found, or why there is none. */
type Resolved = { kind: "value"; value: unknown } | { kind: "tags"; tags: readonly string[] } | { kind: "missing" } | { kind: "ambiguous"; keys: string[] };

const flatCache = new WeakMap<object, Record<string, unknown>>();
function flat(config: Record<string, unknown>): Record<string, unknown> {
  let f = flatCache.get(config);
  if (!f) flatCache.set(config, (f = flattenConfig(config)));
  return f;
}

/** The config key a query key names in this record: exact dotted, or the only key ending in `.key`. */
function configKey(cfg: Record<string, unknown>, key: string): string | string[] | undefined {
  if (key in cfg) return key;
  const suffix = `.${key}`;
  const hits = Object.keys(cfg).filter((k) => k.endsWith(suffix));
  if (hits.length === 1) return hits[0];
  return hits.length > 1 ? hits : undefined;
}

function metricValue(metrics: Record<string, MetricSummary>, key: string): unknown {
  if (key in metrics && isPlainObject(metrics[key])) return metrics[key].last;
  const dot = key.lastIndexOf(".");
  if (dot > 0) {
    const name = key.slice(0, dot);
    const stat = key.slice(dot + 1);
    if (STATS.has(stat) && name in metrics) return metrics[name][stat as keyof MetricSummary];
  }
  return undefined;
}

function resolve(rec: QueryRecord, key: string): Resolved {
  switch (key) {
    case "status":
    case "name":
    case "id":
    case "experiment":
    case "number":
    case "notebook":
      return rec[key] === undefined ? { kind: "missing" } : { kind: "value", value: rec[key] };
    case "tag":
    case "tags":
      return { kind: "tags", tags: rec.tags ?? [] };
    case "duration":
      return rec.duration === undefined ? { kind: "missing" } : { kind: "value", value: rec.duration / 1000 };
  }
  const cfg = flat(rec.config ?? {});
  const explicit = key.startsWith("config.");
  const ck = configKey(cfg, explicit ? key.slice(7) : key);
  if (typeof ck === "string") return { kind: "value", value: cfg[ck] };
  if (Array.isArray(ck)) return { kind: "ambiguous", keys: ck };
  if (explicit) return { kind: "missing" };
  const m = metricValue(rec.metrics ?? {}, key);
  return m === undefined ? { kind: "missing" } : { kind: "value", value: m };
}

/** `*` any text, `^`/`$` anchors, else a substring; `/re/` a regular expression; any case. */
function likeTest(pattern: string): (s: string) => boolean {
  if (pattern.length > 1 && pattern.startsWith("/") && pattern.endsWith("/")) {
    const re = new RegExp(pattern.slice(1, -1), "i");
    return (s) => re.test(s);
  }
  const start = pattern.startsWith("^");
  const end = pattern.endsWith("$") && pattern.length > (start ? 1 : 0);
  const body = pattern.slice(start ? 1 : 0, end ? -1 : undefined);
  const re = new RegExp(`${start ? "^" : ""}${body.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}${end ? "$" : ""}`, "i");
  return (s) => re.test(s);
}

const likeCache = new Map<string, (s: string) => boolean>();
function like(pattern: string, s: string): boolean {
  let f = likeCache.get(pattern);
  if (!f) {
    if (likeCache.size > 200) likeCache.clear();
    likeCache.set(pattern, (f = likeTest(pattern)));
  }
  return f(s);
}

function valueText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function compare(actual: unknown, op: QueryOp, want: string): boolean {
  if (op === "~") return like(want, valueText(actual));
  const wantNum = isNumberText(want) ? Number(want) : undefined;
  const num = typeof actual === "number" ? actual : typeof actual === "string" && wantNum !== undefined && isNumberText(actual) ? Number(actual) : undefined;
  if (wantNum !== undefined && num !== undefined) {
    if (Number.isNaN(wantNum) || Number.isNaN(num)) {
      const same = Number.isNaN(wantNum) && Number.isNaN(num);
      return op === "=" ? same : op === "!=" ? !same : false;
    }
    switch (op) {
      case "=":
        return num === wantNum;
      case "!=":
        return num !== wantNum;
      case "<":
        return num < wantNum;
      case "<=":
        return num <= wantNum;
      case ">":
        return num > wantNum;
      case ">=":
        return num >= wantNum;
    }
  }
  const a = valueText(actual).toLowerCase();
  const b = want.toLowerCase();
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    // Order between a number and a word, or two words, is not what a filter means: no match.
    default:
      return wantNum === undefined && typeof actual === "string" ? (op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b) : false;
  }
}

function wordMatches(rec: QueryRecord, word: string): boolean {
  const w = word.toLowerCase();
  if (rec.status === w) return true;
  if ((rec.name ?? "").toLowerCase().includes(w)) return true;
  if ((rec.id ?? "").toLowerCase().includes(w)) return true;
  return (rec.tags ?? []).some((t) => t.toLowerCase().includes(w));
}

function termMatches(rec: QueryRecord, t: QueryTerm): boolean {
  if (t.kind === "word") return wordMatches(rec, t.text);
  if (t.kind === "pair") {
    const cfg = flat(rec.config ?? {});
    const ck = configKey(cfg, t.key);
    // Not a config key of this run: the two words as words.
    return typeof ck === "string" ? compare(cfg[ck], "=", t.value) : wordMatches(rec, t.key) && wordMatches(rec, t.value);
  }
  const r = resolve(rec, t.key);
  if (r.kind === "tags") {
    const hit = r.tags.some((tag) => (t.op === "~" ? like(t.value, tag) : tag.toLowerCase() === t.value.toLowerCase()));
    return t.op === "!=" ? !hit : hit;
  }
  if (r.kind !== "value") return t.op === "!=" && r.kind === "missing";
  return compare(r.value, t.op, t.value);
}

/**
 * Whether a run holds every term of the query.
 * @example matchRecord(parseQuery("hidden=64 loss<0.1"), record)
 */
export function matchRecord(query: Query, record: QueryRecord): boolean {
  for (const t of query.terms) if (!termMatches(record, t)) return false;
  return true;
}

/**
 * Keys of the query that no run of `records` has, or that name several config keys: one
 * sentence each, with a "did you mean" where a known key is near. A filter with such a key
 * matches nothing (or misses runs); a reader says so beside the result.
 */
export function queryProblems(query: Query, records: readonly QueryRecord[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const t of query.terms) {
    if (t.kind === "word" || FIELDS.has(t.key) || seen.has(t.key)) continue;
    seen.add(t.key);
    let found = false;
    const ambiguous = new Set<string>();
    for (const r of records) {
      const res = resolve(r, t.key);
      if (res.kind === "value") found = true;
      if (res.kind === "ambiguous") res.keys.forEach((k) => ambiguous.add(k));
      if (found) break;
    }
    if (found) continue;
    if (ambiguous.size) {
      out.push(`"${t.key}" names several config keys (${[...ambiguous].sort().join(", ")}); write the full key`);
      continue;
    }
    if (t.kind === "pair") continue; // two plain words, then
    const known = new Set<string>();
    for (const r of records) {
      for (const k of Object.keys(flat(r.config ?? {}))) known.add(k).add(k.slice(k.lastIndexOf(".") + 1));
      for (const m of Object.keys(r.metrics ?? {})) known.add(m);
    }
    const near = closestName(t.key.replace(/^config\./, ""), known);
    out.push(`no run has a config key or metric "${t.key}"${near ? `; did you mean "${near}"?` : ""}`);
  }
  return out;
}
