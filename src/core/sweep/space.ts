/**
 * A sweep's space: checking what a user gave, the grid's combinations, and random draws from a
 * seeded generator (the same seed draws the same trials, on every machine).
 */
import { LabnoteError, describe, isPlainObject, type SweepSpace, type SweepStrategy } from "../../protocol";
import { seededRandom } from "../capture/seed";

const KINDS = ["uniform", "log-uniform", "int"];

/** A point of the space: dotted config key → value. */
export type Point = Record<string, unknown>;

function bad(key: string, detail: string): LabnoteError {
  return new LabnoteError("INVALID_OPTION", `Invalid sweep space at "${key}"`, detail);
}

/**
 * Check a space for a strategy and return its keys, in order.
 * @throws LabnoteError INVALID_OPTION naming the key and what to give instead.
 */
export function checkSpace(space: unknown, strategy: SweepStrategy): string[] {
  if (!isPlainObject(space)) throw new LabnoteError("INVALID_OPTION", "Invalid sweep space", `expected an object of config keys to lists or distributions, got ${describe(space)}`);
  const keys = Object.keys(space);
  if (keys.length === 0) throw new LabnoteError("INVALID_OPTION", "Invalid sweep space", "it has no keys; give e.g. { lr: [0.1, 0.01] }");
  for (const key of keys) {
    if (!key || key.split(".").some((p) => p === "")) throw bad(key, "a config key must be a non-empty dotted name like \"model.hidden\"");
    const v = space[key];
    if (Array.isArray(v)) {
      if (v.length === 0) throw bad(key, "the list of values is empty");
      continue;
    }
    if (!isPlainObject(v)) throw bad(key, `expected a list of values or a distribution, got ${describe(v)}`);
    if ("choice" in v) {
      if (!Array.isArray(v.choice) || v.choice.length === 0) throw bad(key, "{ choice } needs a non-empty list of values");
      continue;
    }
    if (!("random" in v)) throw bad(key, `expected a list, { choice: [...] } or { random: "uniform" | "log-uniform" | "int", min, max }, got an object with keys ${Object.keys(v).join(", ") || "none"}`);
    if (typeof v.random !== "string" || !KINDS.includes(v.random)) throw bad(key, `unknown distribution ${describe(v.random)}; use "uniform", "log-uniform" or "int"`);
    if (strategy === "grid")
      throw bad(key, `a grid runs every combination of lists, and { random: "${v.random}" } has no list; give a list of values (or { choice: [...] }), or use strategy: "random"`);
    const { min, max } = v as { min: unknown; max: unknown };
    if (typeof min !== "number" || typeof max !== "number" || !Number.isFinite(min) || !Number.isFinite(max)) throw bad(key, `min and max must be finite numbers, got ${describe(min)} and ${describe(max)}`);
    if (!(min < max) && !(v.random === "int" && min === max)) throw bad(key, `min (${min}) must be less than max (${max})`);
    if (v.random === "log-uniform" && min <= 0) throw bad(key, `log-uniform needs min > 0, got ${min}`);
    if (v.random === "int" && (!Number.isInteger(min) || !Number.isInteger(max))) throw bad(key, `int needs whole min and max, got ${min} and ${max}`);
  }
  return keys;
}

function values(v: SweepSpace[string]): readonly unknown[] {
  return Array.isArray(v) ? v : (v as { choice: readonly unknown[] }).choice;
}

/** How many combinations a grid has. */
export function gridSize(space: SweepSpace): number {
  return Object.values(space).reduce<number>((n, v) => n * values(v).length, 1);
}

/** Combination `i` of a grid: the first key varies slowest, the last fastest. */
export function gridPoint(space: SweepSpace, i: number): Point {
  const keys = Object.keys(space);
  const out: Point = {};
  for (let k = keys.length - 1; k >= 0; k--) {
    const list = values(space[keys[k]]);
    out[keys[k]] = list[i % list.length];
    i = Math.floor(i / list.length);
  }
  return Object.fromEntries(keys.map((k) => [k, out[k]]));
}

/**
 * The first `n` random points drawn with `seed`: one generator, keys drawn in the space's order,
 * point after point, so asking for more trials later keeps the first ones.
 */
export function randomPoints(space: SweepSpace, seed: number, n: number): Point[] {
  const rng = seededRandom(seed);
  const keys = Object.keys(space);
  const out: Point[] = [];
  for (let i = 0; i < n; i++) {
    const p: Point = {};
    for (const key of keys) {
      const v = space[key];
      const u = rng();
      if (Array.isArray(v) || "choice" in v) {
        const list = values(v);
        p[key] = list[Math.min(list.length - 1, Math.floor(u * list.length))];
        continue;
      }
      const { random, min, max } = v as { random: string; min: number; max: number };
      if (random === "uniform") p[key] = min + u * (max - min);
      else if (random === "log-uniform") p[key] = Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min)));
      else p[key] = min + Math.min(max - min, Math.floor(u * (max - min + 1)));
    }
    out.push(p);
  }
  return out;
}

/** JSON with object keys sorted: equal values give equal text. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(",")}]`;
  if (isPlainObject(x))
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(x[k])}`)
      .join(",")}}`;
  if (typeof x === "number" && !Number.isFinite(x)) return JSON.stringify(String(x));
  return JSON.stringify(x) ?? "null";
}
