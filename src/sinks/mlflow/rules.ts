/**
 * What MLflow's tracking server accepts, and how labnote's runs are put in its terms: valid keys
 * (a name MLflow refuses is mapped, and the mapping is kept), the limits of one `runs/log-batch`,
 * metric values and steps as JSON, and the final status.
 */
import type { RunStatus } from "../../protocol";

/** The server's limits (MLflow's `mlflow/utils/validation.py`). */
export const LIMITS = {
  /** Metrics, params and tags together in one `runs/log-batch`. */
  metrics: 1000,
  /** Params, and tags, in one `runs/log-batch`. */
  params: 100,
  tags: 100,
  /** Bytes of one request body: the server's limit is 1 MB, kept well below. */
  bytes: 900_000,
  /** Characters of a param value. */
  paramValue: 6000,
  /** Characters of a tag value. */
  tagValue: 8000,
  /** Characters of a key (metric, param or tag). */
  key: 250,
} as const;

/** The status MLflow gives a run that ended with labnote's status `s`. */
export function mlflowStatus(s: RunStatus): "RUNNING" | "FINISHED" | "FAILED" | "KILLED" {
  switch (s) {
    case "running":
      return "RUNNING";
    case "completed":
      return "FINISHED";
    case "failed":
      return "FAILED";
    default:
      return "KILLED"; // interrupted, died
  }
}

// MLflow's rule is Python's `^[/\w.\- :]*$`, where \w is a Unicode letter, digit or underscore.
const INVALID_CHAR = /[^\p{L}\p{N}_\-./: ]/gu;

/**
 * A key MLflow accepts for `name`: characters it refuses become `_`, and a name that would read
 * as another path (a leading `/`, `//`, a `.` or `..` segment) is made plain; at most 250 characters.
 * A valid name comes back unchanged.
 * @example mlflowKey('val/acc, top-1 "strict"') // 'val/acc_ top-1 _strict_'
 */
export function mlflowKey(name: string): string {
  let k = name.replace(INVALID_CHAR, "_");
  // MLflow also refuses a name that path normalization would change (`a//b`, `a/`, `./a`, `/a`).
  k = k
    .split("/")
    .map((seg) => (seg === "" ? "_" : seg === "." || seg === ".." ? seg.replace(/\./g, "_") : seg))
    .join("/");
  if (k === "") k = "_";
  if (k.length > LIMITS.key) {
    k = k.slice(0, LIMITS.key);
    if (/[\ud800-\udbff]$/.test(k)) k = `${k.slice(0, -1)}_`;
    if (k.endsWith("/")) k = `${k.slice(0, -1)}_`;
  }
  return k;
}

/**
 * Names to keys, each key given once: a name that maps to a key already taken (by a renamed name
 * that came first) gets `_2`, `_3`, …. The mapping of every renamed name is kept (in the outbox
 * and in a tag).
 */
export class KeyMap {
  /** name → key, for the names that were renamed. */
  readonly renamed: Record<string, string>;

  constructor(renamed: Record<string, string> = {}) {
    this.renamed = renamed;
    for (const [name, key] of Object.entries(renamed)) {
      this.keys.set(name, key);
      this.taken.add(key);
    }
  }

  /** The key of `name`; `onRename` hears a name the first time it is renamed. */
  key(name: string, onRename?: (name: string, key: string) => void): string {
    let k = this.keys.get(name);
    if (k !== undefined) return k;
    k = mlflowKey(name);
    if (k !== name || this.taken.has(k)) {
      const base = k;
      for (let n = 2; this.taken.has(k); n++) {
        const suffix = `_${n}`;
        k = base.slice(0, LIMITS.key - suffix.length) + suffix;
      }
      this.renamed[name] = k;
      onRename?.(name, k);
    }
    this.keys.set(name, k);
    this.taken.add(k);
    return k;
  }

  private readonly keys = new Map<string, string>();
  private readonly taken = new Set<string>();
}

/** A metric value as MLflow's JSON API takes it: NaN and ±Infinity as the strings protobuf reads. */
export function jsonValue(v: number): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? "-0.0" : String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

const INT64_MAX = 9223372036854775807n;

/** A step as MLflow's int64: whole numbers as they are, a fraction rounded, beyond int64 clamped. */
export function jsonStep(s: number): string {
  if (Number.isSafeInteger(s)) return String(s);
  if (!Number.isFinite(s)) return Number.isNaN(s) ? "0" : s > 0 ? INT64_MAX.toString() : (-INT64_MAX - 1n).toString();
  const b = BigInt(Math.round(s));
  return (b > INT64_MAX ? INT64_MAX : b < -INT64_MAX - 1n ? -INT64_MAX - 1n : b).toString();
}

/** A value cut to `max` characters, saying so. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
