/** JSON as the store writes it, and the config shapes every reader shares. */
import { formatNumber } from "./format";

/** A plain object: `{}` or `Object.create(null)`, not an array, a class instance or null. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * JSON for records: NaN/±Infinity as strings (like the wire), BigInt as a string, Map and Set
 * as object and array, typed arrays as arrays, cycles marked and functions dropped.
 */
export function recordJson(value: unknown, space?: number): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(
    value,
    function (this: unknown, _k, v: unknown) {
      if (typeof v === "number") return Number.isFinite(v) ? v : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "function" || typeof v === "symbol") return undefined;
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
        if (v instanceof Map) return Object.fromEntries([...v].map(([a, b]) => [String(a), b]));
        if (v instanceof Set) return [...v];
        if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, Number);
      }
      return v;
    },
    space,
  );
}

/**
 * Flatten a config to dotted leaf keys: `{ a: { b: 1 } }` → `{ "a.b": 1 }`. Arrays and empty
 * objects are leaves.
 */
export function flattenConfig(x: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isPlainObject(x) && Object.keys(x).length > 0) {
    for (const [k, v] of Object.entries(x)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = x;
  return out;
}

/**
 * The inverse of {@link flattenConfig}: dotted keys back into nested objects,
 * `{ "a.b": 1, c: 2 }` → `{ a: { b: 1 }, c: 2 }`. A key whose path runs through a leaf that is
 * already set (`a` and `a.b` both given) is kept whole, dots and all, at the top.
 */
export function unflattenConfig(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(flat).sort((a, b) => a.split(".").length - b.split(".").length);
  const clashes: string[] = [];
  for (const key of keys) {
    const parts = key.split(".");
    if (parts.some((p) => p === "")) {
      clashes.push(key);
      continue;
    }
    let at: Record<string, unknown> = out;
    let ok = true;
    for (const p of parts.slice(0, -1)) {
      const next = at[p];
      if (next === undefined) at = at[p] = {};
      else if (isPlainObject(next) && !LEAF.has(next)) at = next;
      else {
        ok = false;
        break;
      }
    }
    const last = parts[parts.length - 1];
    if (!ok || at[last] !== undefined) {
      clashes.push(key);
      continue;
    }
    at[last] = flat[key];
    if (isPlainObject(flat[key])) LEAF.add(flat[key] as object);
  }
  for (const key of clashes) out[key] = flat[key];
  return out;
}

/** Objects that were leaves (values) in a flat config: never descended into. */
const LEAF = new WeakSet<object>();

/**
 * A config value as a person reads it in a table cell: strings bare, numbers as
 * {@link formatNumber} shows them, anything else as compact JSON.
 */
export function configValueText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (v === undefined) return "";
  return recordJson(v) ?? String(v);
}
