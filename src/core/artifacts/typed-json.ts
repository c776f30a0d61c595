import { LabnoteError } from "../../protocol";
import { isPlainObject } from "../../protocol";

const TAG = "$labnote";
const TYPED = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];

/** True when a value needs tags to survive JSON (Map, Set, Date, BigInt, NaN, typed arrays…). */
export function needsTags(v: unknown, seen = new Set<unknown>()): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  if (typeof v === "bigint" || v === undefined) return typeof v === "bigint";
  if (typeof v !== "object" || v === null) return false;
  if (v instanceof Map || v instanceof Set || v instanceof Date || ArrayBuffer.isView(v)) return true;
  if (seen.has(v)) return false;
  seen.add(v);
  if (Array.isArray(v)) return v.some((x) => needsTags(x, seen));
  if (isPlainObject(v) && TAG in v) return true;
  return Object.values(v).some((x) => needsTags(x, seen));
}

/**
 * Turn a value into JSON-safe data where Map, Set, Date, BigInt, typed arrays and non-finite
 * numbers are tagged objects `{ "$labnote": "Map", … }`. Cycles and functions are refused
 * with an error that names where they are.
 */
export function toTagged(v: unknown, where = "$", stack: unknown[] = []): unknown {
  switch (typeof v) {
    case "number":
      return Number.isFinite(v) ? v : { [TAG]: "Number", value: String(v) };
    case "bigint":
      return { [TAG]: "BigInt", value: v.toString() };
    case "function":
      throw new LabnoteError("UNSERIALIZABLE", "Cannot save value", `${where} is a function; save data, not code`);
    case "symbol":
      throw new LabnoteError("UNSERIALIZABLE", "Cannot save value", `${where} is a symbol`);
    case "object":
      break;
    default:
      return v;
  }
  if (v === null) return null;
  if (stack.includes(v)) throw new LabnoteError("UNSERIALIZABLE", "Cannot save value", `${where} refers back to one of its parents (a cycle); save a copy without the cycle`);
  stack.push(v);
  try {
    if (v instanceof Date) return { [TAG]: "Date", value: Number.isNaN(v.getTime()) ? null : v.toISOString() };
    if (v instanceof Map) return { [TAG]: "Map", entries: [...v].map(([k, x], i) => [toTagged(k, `${where}.<key ${i}>`, stack), toTagged(x, `${where}.get(${i})`, stack)]) };
    if (v instanceof Set) return { [TAG]: "Set", values: [...v].map((x, i) => toTagged(x, `${where}.<item ${i}>`, stack)) };
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name;
      const values = Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? x.toString() : toTagged(x, where, stack)));
      return { [TAG]: Buffer.isBuffer(v) ? "Buffer" : name, values };
    }
    if (Array.isArray(v)) return v.map((x, i) => (x === undefined ? null : toTagged(x, `${where}[${i}]`, stack)));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      out[k] = toTagged(x, `${where}.${k}`, stack);
    }
    return isPlainObject(v) && TAG in v ? { [TAG]: "Object", value: out } : out;
  } finally {
    stack.pop();
  }
}

/** Undo {@link toTagged}. */
export function fromTagged(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromTagged);
  if (!isPlainObject(v)) return v;
  const tag = v[TAG];
  if (typeof tag === "string") {
    switch (tag) {
      case "Number":
        return Number(v.value);
      case "BigInt":
        return BigInt(v.value as string);
      case "Date":
        return new Date(v.value === null ? NaN : (v.value as string));
      case "Map":
        return new Map((v.entries as unknown[][]).map(([k, x]) => [fromTagged(k), fromTagged(x)]));
      case "Set":
        return new Set((v.values as unknown[]).map(fromTagged));
      case "Object": {
        const inner = v.value as Record<string, unknown>;
        return Object.fromEntries(Object.entries(inner).map(([k, x]) => [k, fromTagged(x)]));
      }
      case "Buffer":
        return Buffer.from(v.values as number[]);
      default:
        if (TYPED.includes(tag)) {
          const Ctor = (globalThis as unknown as Record<string, new (x: unknown[]) => unknown>)[tag];
          const values = (v.values as unknown[]).map((x) => (tag.startsWith("Big") ? BigInt(x as string) : fromTagged(x)));
          return new Ctor(values);
        }
    }
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromTagged(x)]));
}
