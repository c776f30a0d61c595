/**
 * A run's annotations: the notes and tags a person adds after the fact (the dashboard, the
 * command line), kept in a file of their own beside `run.json`, so that a kernel rewriting the
 * record at that moment never loses them and they never lose the kernel's write.
 * ```
 * <root>/<experiment>/<number>/annotations.json   {"format":1,"notes":"…","tags":["…"],"time":1764642463123}
 * ```
 * Readers merge them into the record: its tags are the record's tags and the annotation's;
 * its notes are the annotation's.
 */
import { LabnoteError } from "./errors";
import { isPlainObject } from "./json";
import type { RunRecord } from "./record";

/** The annotations file of a run's folder. */
export const ANNOTATIONS_FILE = "annotations.json";

/** The annotations format this version writes; a reader ignores anything newer, with a reason. */
export const ANNOTATIONS_FORMAT = 1;

/** What a person added to a run. */
export interface Annotations {
  format: 1;
  /** Free text (markdown is shown as text). */
  notes: string;
  /** Added tags; the record's own tags stay (a tag the kernel gave cannot be taken away here). */
  tags: string[];
  /** When they were last written (ms since the epoch). */
  time: number;
}

/** The longest tag and the longest notes accepted. */
export const ANNOTATION_LIMITS = { tag: 64, tags: 64, notes: 20_000 } as const;

/**
 * Why `tag` is not a valid tag, or undefined when it is: 1–64 characters, no spaces, commas or
 * quotes (a tag is one word of the query language: `tag:v1`).
 */
export function tagProblem(tag: string): string | undefined {
  if (tag === "") return "a tag cannot be empty";
  if (tag.length > ANNOTATION_LIMITS.tag) return `a tag has at most ${ANNOTATION_LIMITS.tag} characters (${JSON.stringify(tag.slice(0, 20))}… has ${tag.length})`;
  if (/[\s,"'`]/.test(tag)) return `tag ${JSON.stringify(tag)} has a space, comma or quote; a tag is one word (use - or _)`;
  return undefined;
}

/**
 * Tags typed by a person ("v1, best  baseline") as a clean list: split at commas and spaces,
 * duplicates dropped, order kept. Throws a LabnoteError naming the first bad tag.
 */
export function parseTagList(text: string): string[] {
  const out: string[] = [];
  for (const t of text.split(/[\s,]+/)) {
    if (t === "" || out.includes(t)) continue;
    const why = tagProblem(t);
    if (why) throw new LabnoteError("INVALID_VALUE", "Invalid tag", why);
    out.push(t);
  }
  if (out.length > ANNOTATION_LIMITS.tags) throw new LabnoteError("INVALID_VALUE", "Too many tags", `at most ${ANNOTATION_LIMITS.tags} tags a run, got ${out.length}`);
  return out;
}

/** Annotations as they are written (one line of JSON and a newline). Throws on a bad tag or too long notes. */
export function annotationsJson(a: { notes: string; tags: readonly string[]; time: number }): string {
  if (a.notes.length > ANNOTATION_LIMITS.notes) throw new LabnoteError("INVALID_VALUE", "Notes too long", `at most ${ANNOTATION_LIMITS.notes} characters, got ${a.notes.length}`);
  for (const t of a.tags) {
    const why = tagProblem(t);
    if (why) throw new LabnoteError("INVALID_VALUE", "Invalid tag", why);
  }
  const value: Annotations = { format: ANNOTATIONS_FORMAT, notes: a.notes, tags: [...new Set(a.tags)], time: a.time };
  return JSON.stringify(value) + "\n";
}

/** Parsed annotations, or why the file cannot be used. */
export type ParsedAnnotations = { ok: true; value: Annotations } | { ok: false; reason: string };

/**
 * Read an `annotations.json` (text or parsed value). Never throws: invalid JSON, a newer format
 * or a wrong shape come back as `{ ok: false, reason }`; tags that are not valid are left out.
 */
export function parseAnnotations(input: unknown): ParsedAnnotations {
  let v = input;
  if (typeof input === "string") {
    try {
      v = JSON.parse(input);
    } catch (e) {
      return { ok: false, reason: `${ANNOTATIONS_FILE} is not valid JSON (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  if (!isPlainObject(v)) return { ok: false, reason: `${ANNOTATIONS_FILE} does not hold an object` };
  if (typeof v.format === "number" && v.format > ANNOTATIONS_FORMAT)
    return { ok: false, reason: `${ANNOTATIONS_FILE} has format ${v.format}, newer than this labnote reads (${ANNOTATIONS_FORMAT}); update labnote` };
  const notes = typeof v.notes === "string" ? v.notes : "";
  const tags = Array.isArray(v.tags) ? [...new Set(v.tags.filter((t): t is string => typeof t === "string" && tagProblem(t) === undefined))] : [];
  return { ok: true, value: { format: 1, notes, tags, time: typeof v.time === "number" ? v.time : 0 } };
}

/**
 * The record as readers show it, annotations merged: tags = the record's ∪ the annotation's
 * (the record's first), notes = the annotation's when it has any. A new object when anything
 * changes; the record given is never changed.
 */
export function withAnnotations<R extends Pick<RunRecord, "tags"> & { notes?: string }>(record: R, a: Annotations | undefined): R {
  if (!a) return record;
  const extra = a.tags.filter((t) => !record.tags.includes(t));
  if (extra.length === 0 && a.notes === (record.notes ?? "")) return record;
  const out = { ...record, tags: [...record.tags, ...extra] };
  if (a.notes !== "") out.notes = a.notes;
  else delete out.notes;
  return out;
}
