import { LabnoteError, isPlainObject, type ArtifactRecord } from "../../protocol";
import { decodeNpy, encodeNpy } from "./npy";
import { fromTagged, toTagged } from "./typed-json";

/** How one kind of value is written to a file and read back. */
export interface Saver {
  /** A short word for the format, recorded with the artifact (`json`, `npy`, …). */
  format: string;
  /** File extension with its dot. */
  ext: string;
  /** What a browser should treat the file as. */
  mediaType?: string;
  write(value: unknown, options: SaveOptions): Uint8Array | string;
  read(data: Buffer, info: { type: string; shape?: number[] }): unknown | Promise<unknown>;
}

export interface SaveOptions {
  /** Shape for typed arrays saved as `.npy`. */
  shape?: number[];
  /** Free-form metadata kept with the artifact's record. */
  metadata?: Record<string, unknown>;
}

/** A test that picks a saver for a value. */
export type SaverTest = (value: unknown) => boolean;

function isTable(v: unknown): v is { toCSV(): string; numRows(): number } {
  return typeof v === "object" && v !== null && typeof (v as { toCSV?: unknown }).toCSV === "function" && typeof (v as { numRows?: unknown }).numRows === "function";
}

const json: Saver = {
  format: "json",
  ext: ".json",
  mediaType: "application/json",
  write: (v) => JSON.stringify(toTagged(v), null, 2) + "\n",
  read: (d) => fromTagged(JSON.parse(d.toString("utf8"))),
};

const text: Saver = { format: "text", ext: ".txt", mediaType: "text/plain", write: (v) => v as string, read: (d) => d.toString("utf8") };

const bytes: Saver = {
  format: "bytes",
  ext: ".bin",
  mediaType: "application/octet-stream",
  write: (v) => v as Uint8Array,
  read: (d, info) => (info.type === "Buffer" ? Buffer.from(d) : new Uint8Array(d)),
};

const npy: Saver = {
  format: "npy",
  ext: ".npy",
  mediaType: "application/octet-stream",
  write: (v, o) => encodeNpy(v as NodeJS.TypedArray, o.shape),
  read: (d, info) => {
    const { data } = decodeNpy(d);
    if (info.type === "Uint8ClampedArray") return new Uint8ClampedArray(data.buffer);
    return data;
  },
};

const csv: Saver = {
  format: "csv",
  ext: ".csv",
  mediaType: "text/csv",
  write: (v) => (v as { toCSV(): string }).toCSV(),
  read: async (d) => {
    const aq = await import("arquero");
    return aq.fromCSV(d.toString("utf8"));
  },
};

/** The built-in savers in the order they are tried. */
export const BUILTIN_SAVERS: [SaverTest, Saver][] = [
  [(v) => Buffer.isBuffer(v) || (v instanceof Uint8Array && v.constructor === Uint8Array), bytes],
  [(v) => ArrayBuffer.isView(v) && !(v instanceof DataView), npy],
  [isTable, csv],
  [(v) => typeof v === "string", text],
  [(v) => v === null || ["number", "boolean", "bigint"].includes(typeof v) || Array.isArray(v) || isPlainObject(v) || v instanceof Map || v instanceof Set || v instanceof Date, json],
  [(v) => typeof v === "object" && v !== null, json],
];

/** The saver for a format word (for loading). */
export function saverFor(format: string, custom: [SaverTest, Saver][]): Saver | undefined {
  for (const [, s] of custom) if (s.format === format) return s;
  for (const [, s] of BUILTIN_SAVERS) if (s.format === format) return s;
  return undefined;
}

/** Pick the saver for a value: custom savers first, then the built-ins. */
export function pickSaver(value: unknown, custom: [SaverTest, Saver][]): Saver {
  for (const [test, s] of custom) if (test(value)) return s;
  for (const [test, s] of BUILTIN_SAVERS) if (test(value)) return s;
  throw new LabnoteError(
    "UNSERIALIZABLE",
    "Cannot save value",
    `${value === undefined ? "undefined" : typeof value} has no saver; save data (objects, arrays, strings, typed arrays, tables) or add one with exp.addSaver(test, saver)`,
  );
}

/** The type name recorded with an artifact so load() can give the same type back. */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Buffer.isBuffer(v)) return "Buffer";
  if (typeof v === "object") return (v as object).constructor?.name ?? "Object";
  return typeof v;
}

/** Guess a media type from a file extension (for files added with addArtifact). */
export function mediaTypeOf(file: string): string {
  const ext = file.slice(file.lastIndexOf(".") + 1).toLowerCase();
  const map: Record<string, string> = {
    json: "application/json",
    csv: "text/csv",
    txt: "text/plain",
    log: "text/plain",
    md: "text/markdown",
    png: "image/png",
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    gif: "image/gif",
    svg: "image/svg+xml",
    webp: "image/webp",
    html: "text/html",
    npy: "application/octet-stream",
  };
  return map[ext] ?? "application/octet-stream";
}

/**
 * Give back what an artifact file holds, as the type that was saved: added files and
 * checkpoints as bytes, the rest through the saver of their recorded format.
 */
export async function decodeArtifact(rec: ArtifactRecord, data: Buffer, custom: [SaverTest, Saver][]): Promise<unknown> {
  if (rec.format === "file" || rec.format === "checkpoint") return data;
  const saver = saverFor(rec.format, custom);
  if (!saver) throw new LabnoteError("UNSUPPORTED", `Cannot load artifact "${rec.name}"`, `it was saved as "${rec.format}"; add the same saver with exp.addSaver() to read it`);
  return saver.read(data, { type: rec.type, shape: rec.shape });
}
