import { LabnoteError, type Histogram } from "../../protocol";

export type { Histogram };

/** Count values into `buckets` equal-width buckets between their finite min and max. */
export function bucketize(name: string, values: ArrayLike<number>, step: number, buckets = 30): Histogram {
  if (values === null || typeof values !== "object" || typeof values.length !== "number")
    throw new LabnoteError("INVALID_VALUE", `Cannot log histogram "${name}"`, "expected an array or typed array of numbers");
  let lo = Infinity;
  let hi = -Infinity;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number")
      throw new LabnoteError("INVALID_VALUE", `Cannot log histogram "${name}"`, `value at index ${i} is ${typeof v}, not a number`);
    if (Number.isNaN(v)) nan++;
    else if (v === Infinity) posInf++;
    else if (v === -Infinity) negInf++;
    else {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const finite = values.length - nan - posInf - negInf;
  if (finite === 0) return { name, step, time: Date.now(), edges: [], counts: [], nan, posInf, negInf, count: values.length };
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / buckets;
  const counts = new Array<number>(buckets).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(buckets - 1, Math.floor((v - lo) / width))]++;
  }
  const edges = Array.from({ length: buckets + 1 }, (_, i) => lo + i * width);
  return { name, step, time: Date.now(), edges, counts, nan, posInf, negInf, count: values.length };
}
