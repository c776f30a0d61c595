import { LabnoteError, describe } from "../../protocol";

/** A fresh 31-bit seed. */
export function newSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/**
 * A small, fast, seeded PRNG (sfc32, seeded through splitmix32) returning floats in [0, 1).
 * The same seed gives the same sequence on every machine.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** A seed pinned for the next run of an experiment under a name. */
export interface SeedPin {
  experiment: string;
  name: string;
  seed: number;
}

const PINS = Symbol.for("labnote.seedPins");

function pinList(): SeedPin[] {
  const g = globalThis as unknown as Record<symbol, SeedPin[] | undefined>;
  return (g[PINS] ??= []);
}

/**
 * Pin seeds for the next runs: each pin is used by the next run of its experiment and name
 * that starts in this process, in the order given, instead of a fresh seed (the config is not
 * touched). An explicit `seed` option still wins, and uses up its pin.
 * @example
 * pinSeeds([{ experiment: "spirals", name: "baseline", seed: 1234 }]);
 */
export function pinSeeds(pins: readonly SeedPin[]): void {
  if (!Array.isArray(pins)) throw new LabnoteError("INVALID_OPTION", "Cannot pin seeds", `expected an array of { experiment, name, seed }, got ${describe(pins)}`);
  for (const p of pins) {
    if (p === null || typeof p !== "object" || typeof p.experiment !== "string" || typeof p.name !== "string" || !Number.isInteger(p.seed))
      throw new LabnoteError("INVALID_OPTION", "Cannot pin seeds", `expected { experiment: string, name: string, seed: integer }, got ${describe(p)}`);
  }
  pinList().push(...pins.map((p) => ({ experiment: p.experiment, name: p.name, seed: p.seed })));
}

/** The seed pinned for the next run of `experiment` named `name`, removed from the pins; undefined when none is. */
export function takePinnedSeed(experiment: string, name: string): number | undefined {
  const list = pinList();
  const at = list.findIndex((p) => p.experiment === experiment && p.name === name);
  if (at < 0) return undefined;
  return list.splice(at, 1)[0].seed;
}
