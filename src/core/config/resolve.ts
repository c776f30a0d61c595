import { LabnoteError, editDistance, flattenConfig as flatten, isPlainObject } from "../../protocol";

export { flatten };

export type ConfigObject = Record<string, unknown>;

/** A deep copy of config-like data: plain objects and arrays copied, everything else kept. */
export function cloneConfig<T>(x: T): T {
  if (Array.isArray(x)) return x.map(cloneConfig) as unknown as T;
  if (isPlainObject(x)) {
    const out: ConfigObject = {};
    for (const [k, v] of Object.entries(x)) out[k] = cloneConfig(v);
    return out as T;
  }
  return x;
}

/** Set `a.b.c` inside `target`, making intermediate objects as needed. */
export function setDotted(target: ConfigObject, key: string, value: unknown): void {
  const parts = key.split(".");
  let cur = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    if (!isPlainObject(cur[p])) cur[p] = {};
    cur = cur[p] as ConfigObject;
  }
  cur[parts[parts.length - 1]] = cloneConfig(value);
}

/** Read `a.b.c` from `source`, or undefined. */
export function getDotted(source: unknown, key: string): unknown {
  let cur: unknown = source;
  for (const p of key.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as ConfigObject)[p];
  }
  return cur;
}

/** Apply an update: nested objects merge, dotted keys reach inside, other values replace. */
export function applyUpdate(target: ConfigObject, update: ConfigObject): void {
  for (const [k, v] of Object.entries(update)) {
    if (k.includes(".")) {
      const existing = getDotted(target, k);
      if (isPlainObject(existing) && isPlainObject(v)) applyUpdate(existing, v);
      else setDotted(target, k, v);
    } else if (isPlainObject(v) && isPlainObject(target[k])) applyUpdate(target[k] as ConfigObject, v);
    else target[k] = cloneConfig(v);
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

export interface ResolvedConfig {
  config: ConfigObject;
  /** Dotted keys whose final value differs from the defaults. */
  modified: string[];
  /** Dotted keys that the defaults do not have. */
  added: string[];
}

/** defaults < named configs (in order) < updates. */
export function resolveConfig(
  defaults: ConfigObject,
  named: Record<string, ConfigObject>,
  chosen: readonly string[],
  updates: ConfigObject | undefined,
): ResolvedConfig {
  const config = cloneConfig(defaults);
  for (const n of chosen) {
    if (!Object.prototype.hasOwnProperty.call(named, n)) {
      const known = Object.keys(named);
      throw new LabnoteError(
        "UNKNOWN_NAMED_CONFIG",
        `Unknown named config "${n}"`,
        known.length ? `this experiment has ${known.map((k) => `"${k}"`).join(", ")}` : "this experiment has no named configs; pass them as experiment(name, { named: { … } })",
      );
    }
    applyUpdate(config, named[n]);
  }
  if (updates !== undefined) {
    if (!isPlainObject(updates)) throw new LabnoteError("INVALID_OPTION", "Invalid config update", "expected a plain object such as { lr: 0.1 } or { 'optimizer.lr': 0.1 }");
    applyUpdate(config, updates);
  }
  const base = flatten(defaults);
  const fin = flatten(config);
  const modified: string[] = [];
  const added: string[] = [];
  for (const [k, v] of Object.entries(fin)) {
    if (!(k in base)) {
      // a key inside a value that the defaults hold as a whole (array or empty object) is not "added"
      const parent = Object.keys(base).find((b) => k.startsWith(b + "."));
      // a key the defaults lack is added, not modified
      if (parent === undefined) added.push(k);
      else if (!same(v, base[parent])) modified.push(parent);
    } else if (!same(v, base[k])) modified.push(k);
  }
  return { config, modified: [...new Set(modified)], added };
}

function initials(leaf: string): string {
  return leaf
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .split(/[_\-\s]+/)
    .filter(Boolean)
    .map((w) => w[0].toLowerCase())
    .join("");
}

/** The closest known key to a probable typo (edit distance, or an abbreviation: learning_rate ~ lr), for warnings. */
export function closestKey(key: string, known: string[]): string | undefined {
  const prefix = (k: string) => k.slice(0, k.lastIndexOf(".") + 1);
  const leaf = (k: string) => k.slice(k.lastIndexOf(".") + 1);
  for (const k of known) {
    if (prefix(k) !== prefix(key)) continue;
    const a = leaf(key);
    const b = leaf(k);
    if ((initials(a).length > 1 && initials(a) === b.toLowerCase()) || (initials(b).length > 1 && initials(b) === a.toLowerCase())) return k;
  }
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const leafLength = key.length - key.lastIndexOf(".") - 1;
  return bestD <= Math.max(1, Math.floor(leafLength / 3)) && bestD < leafLength ? best : undefined;
}
