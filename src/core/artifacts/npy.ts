import { LabnoteError, parseNpyHeader } from "../../protocol";

type Typed = Exclude<NodeJS.TypedArray, never>;

const DESCR: Record<string, string> = {
  Int8Array: "|i1",
  Uint8Array: "|u1",
  Uint8ClampedArray: "|u1",
  Int16Array: "<i2",
  Uint16Array: "<u2",
  Int32Array: "<i4",
  Uint32Array: "<u4",
  Float32Array: "<f4",
  Float64Array: "<f8",
  BigInt64Array: "<i8",
  BigUint64Array: "<u8",
};
const CTOR: Record<string, string> = { "|i1": "Int8Array", "|u1": "Uint8Array", "<i2": "Int16Array", "<u2": "Uint16Array", "<i4": "Int32Array", "<u4": "Uint32Array", "<f4": "Float32Array", "<f8": "Float64Array", "<i8": "BigInt64Array", "<u8": "BigUint64Array" };

/**
 * Encode a typed array as a NumPy `.npy` file (format 1.0, little-endian, C order).
 * @param shape defaults to one dimension; its product must equal the length
 */
export function encodeNpy(a: Typed, shape: readonly number[] = [a.length]): Buffer {
  const descr = DESCR[a.constructor.name];
  if (!descr) throw new LabnoteError("UNSUPPORTED", "Cannot save as .npy", `${a.constructor.name} has no NumPy dtype`);
  const n = shape.reduce((x, y) => x * y, 1);
  if (n !== a.length || shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new LabnoteError("INVALID_VALUE", "Cannot save as .npy", `shape [${shape.join(", ")}] does not hold ${a.length} values`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const pre = Buffer.alloc(10);
  pre.write("\x93NUMPY", 0, "latin1");
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([pre, Buffer.from(header, "latin1"), body]);
}

/** Decode a `.npy` file written by NumPy or {@link encodeNpy}; returns the typed array and its shape. */
export function decodeNpy(buf: Buffer): { data: Typed; shape: number[] } {
  const parsed = parseNpyHeader(buf);
  if (!parsed.ok) throw new LabnoteError("STORE_READ", "Cannot read .npy", parsed.reason);
  const { descr, fortran, shape, dataStart } = parsed.header;
  if (fortran) throw new LabnoteError("UNSUPPORTED", "Cannot read .npy", "Fortran-ordered arrays are not supported");
  const ctorName = CTOR[descr];
  if (!ctorName) throw new LabnoteError("UNSUPPORTED", "Cannot read .npy", `dtype ${descr} is not supported`);
  const Ctor = (globalThis as unknown as Record<string, { new (b: ArrayBuffer): Typed; BYTES_PER_ELEMENT: number }>)[ctorName];
  const copy = new Uint8Array(buf.length - dataStart);
  copy.set(buf.subarray(dataStart));
  return { data: new Ctor(copy.buffer), shape };
}
