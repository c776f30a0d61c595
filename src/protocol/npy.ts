/**
 * NumPy's `.npy` format, read in the browser (and anywhere else): the magic `\x93NUMPY`, a
 * version, a header length, a Python-literal header `{'descr': '<f8', 'fortran_order': False,
 * 'shape': (3, 4), }`, then the data. Little-endian (and byte-order-free) booleans, integers
 * and floats are read; anything else (big-endian, strings, records, objects) is refused with
 * the reason. Pure: no DOM, no Node.
 */

/** What an `.npy` holds: its dtype, shape and values (row-major, whatever the file's order). */
export interface NpyArray {
  /** NumPy's name of the element type: `float64`, `int32`, `bool`, … */
  dtype: string;
  shape: number[];
  /** The values in C (row-major) order, as numbers (int64 values beyond 2^53 lose precision). */
  data: Float64Array;
}

/** A parsed `.npy`, or why it could not be read. */
export type ParsedNpy = { ok: true; value: NpyArray } | { ok: false; reason: string };

/** The most values an `.npy` may hold to be read here (a preview, not a data loader). */
export const NPY_MAX_VALUES = 20_000_000;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

const KINDS: Record<string, { name: (bytes: number) => string; sizes: number[] }> = {
  f: { name: (b) => `float${8 * b}`, sizes: [2, 4, 8] },
  i: { name: (b) => `int${8 * b}`, sizes: [1, 2, 4, 8] },
  u: { name: (b) => `uint${8 * b}`, sizes: [1, 2, 4, 8] },
  b: { name: () => "bool", sizes: [1] },
};

/** Parse the header's Python dict literal: the three keys NumPy writes. */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } | string {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) return /['"]descr['"]\s*:\s*\[/.test(text) ? "it holds structured records (a dtype with fields), which are not previewed" : "its header has no descr";
  if (!fortran || !shape) return "its header is malformed (no fortran_order or shape)";
  const dims = shape[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (!dims.every((d) => /^\d+L?$/.test(d))) return `its shape (${shape[1]}) is not a tuple of sizes`;
  return { descr: descr[1], fortran: fortran[1] === "True", shape: dims.map((d) => parseInt(d, 10)) };
}

/** Row-major order from column-major (Fortran) data of this shape. */
function toRowMajor(src: Float64Array, shape: number[]): Float64Array {
  if (shape.length < 2) return src;
  const n = src.length;
  const out = new Float64Array(n);
  const strideF = new Array<number>(shape.length);
  let s = 1;
  for (let k = 0; k < shape.length; k++) {
    strideF[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let k = 0; k < shape.length; k++) f += idx[k] * strideF[k];
    out[i] = src[f];
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** float16 bits as a number. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * Math.pow(2, -14) * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
}

/** An `.npy` header: the dtype as NumPy writes it (`<f8`), the order, the shape, and where the data starts. */
export interface NpyHeader {
  descr: string;
  fortran: boolean;
  shape: number[];
  /** Byte offset of the first value. */
  dataStart: number;
}

/**
 * Read an `.npy` file's header (versions 1 to 3). Never throws: a file that is not an `.npy` or
 * whose header is cut short or malformed comes back as `{ ok: false, reason }`.
 * @example const hd = parseNpyHeader(bytes); if (hd.ok) console.log(hd.header.descr, hd.header.shape)
 */
export function parseNpyHeader(bytes: Uint8Array): { ok: true; header: NpyHeader } | { ok: false; reason: string } {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) return { ok: false, reason: "not an .npy file (no \\x93NUMPY magic)" };
  const major = bytes[6];
  if (major < 1 || major > 3) return { ok: false, reason: `.npy version ${major}.${bytes[7]} is not one this reader knows (1 to 3)` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wide = major >= 2;
  if (wide && bytes.length < 12) return { ok: false, reason: "the .npy file is cut short in its header" };
  const headerLength = wide ? view.getUint32(8, true) : view.getUint16(8, true);
  const dataStart = (wide ? 12 : 10) + headerLength;
  if (dataStart > bytes.length) return { ok: false, reason: "the .npy file is cut short in its header" };
  // Read as latin1: the keys and numbers NumPy writes are ASCII (non-ASCII only names fields of records, refused anyway).
  let text = "";
  for (let i = wide ? 12 : 10; i < dataStart; i++) text += String.fromCharCode(bytes[i]);
  const header = parseHeader(text);
  if (typeof header === "string") return { ok: false, reason: `the .npy file cannot be read: ${header}` };
  return { ok: true, header: { ...header, dataStart } };
}

/**
 * Read an `.npy` file's bytes. Never throws: a file that is not an `.npy`, is cut short, or holds
 * a type this reader does not take comes back as `{ ok: false, reason }`.
 * @example const p = parseNpy(new Uint8Array(await blob.arrayBuffer())); if (p.ok) draw(p.value.shape, p.value.data)
 */
export function parseNpy(bytes: Uint8Array): ParsedNpy {
  const hd = parseNpyHeader(bytes);
  if (!hd.ok) return hd;
  const header = hd.header;
  const start = header.dataStart;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(header.descr);
  if (!m) return { ok: false, reason: `the .npy dtype ${header.descr} is not a number type (strings, objects and dates are not previewed)` };
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  const k = KINDS[kind];
  if (!k || !k.sizes.includes(size)) return { ok: false, reason: `the .npy dtype ${header.descr} is not a number type this reader takes (bool, int, uint, float)` };
  if (order === ">" && size > 1) return { ok: false, reason: `the .npy file is big-endian (${header.descr}); save it little-endian (arr.astype("<${kind}${size}"))` };
  const count = header.shape.reduce((a, b) => a * b, 1);
  if (count > NPY_MAX_VALUES) return { ok: false, reason: `the .npy array has ${count} values, more than the ${NPY_MAX_VALUES} a preview reads` };
  if (start + count * size > bytes.length) return { ok: false, reason: `the .npy file is cut short: ${count} values of ${size} bytes need ${count * size} bytes, it has ${bytes.length - start}` };
  const data = new Float64Array(count);
  const read: (at: number) => number =
    kind === "f"
      ? size === 8
        ? (at) => view.getFloat64(at, true)
        : size === 4
          ? (at) => view.getFloat32(at, true)
          : (at) => half(view.getUint16(at, true))
      : kind === "b"
        ? (at) => (view.getUint8(at) ? 1 : 0)
        : kind === "i"
          ? size === 1
            ? (at) => view.getInt8(at)
            : size === 2
              ? (at) => view.getInt16(at, true)
              : size === 4
                ? (at) => view.getInt32(at, true)
                : (at) => Number(view.getBigInt64(at, true))
          : size === 1
            ? (at) => view.getUint8(at)
            : size === 2
              ? (at) => view.getUint16(at, true)
              : size === 4
                ? (at) => view.getUint32(at, true)
                : (at) => Number(view.getBigUint64(at, true));
  for (let i = 0, at = start; i < count; i++, at += size) data[i] = read(at);
  return { ok: true, value: { dtype: k.name(size), shape: header.shape, data: header.fortran ? toRowMajor(data, header.shape) : data } };
}

/** Min, max and mean over the finite values of an array, and how many were NaN or ±Infinity. */
export function npyStats(data: ArrayLike<number>): { min: number; max: number; mean: number; nonFinite: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  let bad = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      bad++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    n++;
  }
  return n ? { min, max, mean: sum / n, nonFinite: bad } : { min: NaN, max: NaN, mean: NaN, nonFinite: bad };
}
