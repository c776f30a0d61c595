/** Numbers on the wire and in the store: JSON has no NaN or Infinity, so those travel as strings. */

/** A number on the wire and in `run.json`: NaN and ±Infinity are strings there. */
export type WireNumber = number | "NaN" | "Infinity" | "-Infinity";

/** Encode a number for JSON: NaN and ±Infinity become strings. */
export function toWire(x: number): WireNumber {
  if (Number.isFinite(x)) return x;
  if (Number.isNaN(x)) return "NaN";
  return x > 0 ? "Infinity" : "-Infinity";
}

/** Decode a wire number; anything that is not a number or one of the three strings becomes NaN. */
export function fromWire(x: unknown): number {
  if (typeof x === "number") return x;
  if (x === "Infinity") return Infinity;
  if (x === "-Infinity") return -Infinity;
  return NaN;
}

/** True for a number or one of the strings that stand for NaN and ±Infinity. */
export function isWireNumber(x: unknown): x is WireNumber {
  return typeof x === "number" || x === "NaN" || x === "Infinity" || x === "-Infinity";
}
