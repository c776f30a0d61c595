/**
 * TensorBoard's event file format, written by hand: TFRecord framing (length, masked CRC-32C of
 * the length, data, masked CRC-32C of the data) around `Event` protocol buffers that carry a
 * `Summary` of scalars, histograms or text.
 *
 * The messages and their field numbers (tensorflow/core/util/event.proto, framework/summary.proto,
 * framework/tensor.proto):
 * ```
 * Event          { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 * Summary        { repeated Value value = 1; }
 * Summary.Value  { string tag = 1; float simple_value = 2; HistogramProto histo = 5; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
 * HistogramProto { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5; repeated double bucket_limit = 6 [packed], bucket = 7 [packed]; }
 * SummaryMetadata{ PluginData plugin_data = 1; }   PluginData { string plugin_name = 1; bytes content = 2; }
 * TensorProto    { DataType dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }   (DT_STRING = 7)
 * ```
 */

// ---- CRC-32C (Castagnoli), slicing by 8 ----

const CRC_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0][n];
    for (let t = 1; t < 8; t++) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[t][n] = c >>> 0;
    }
  }
  return tables;
})();

const [T0, T1, T2, T3, T4, T5, T6, T7] = CRC_TABLES;

/** CRC-32C of `bytes[from, to)`. */
export function crc32c(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const t0 = T0, t1 = T1, t2 = T2, t3 = T3, t4 = T4, t5 = T5, t6 = T6, t7 = T7;
  let crc = 0xffffffff;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    const a = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc =
      t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^
      t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < to; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The masked CRC TFRecord stores: rotated right by 15 bits plus a constant. */
export function maskedCrc32c(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const c = crc32c(bytes, from, to);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ---- protocol buffer encoding ----

/**
 * A growing byte buffer with the protobuf encodings the event messages need. Messages are
 * written inside out: a nested message is encoded into its own writer, then added as bytes.
 */
export class ProtoWriter {
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  get length(): number {
    return this.pos;
  }

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** An unsigned varint (up to 2^53; negative int64 values take the ten-byte two's complement form). */
  varint(v: number): void {
    this.ensure(10);
    if (v < 0) {
      // int64 two's complement: 2^64 + v, written 7 bits at a time with BigInt (rare: negative steps).
      let b = BigInt.asUintN(64, BigInt(Math.trunc(v)));
      while (b >= 0x80n) {
        this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
        b >>= 7n;
      }
      this.buf[this.pos++] = Number(b);
      return;
    }
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  double(field: number, v: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  int64(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A length-delimited field: bytes, a string (UTF-8) or an encoded message. */
  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, 2);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  string(field: number, s: string): void {
    this.bytesField(field, TEXT.encode(s));
  }

  packedDoubles(field: number, values: ArrayLike<number>): void {
    this.tag(field, 2);
    this.varint(values.length * 8);
    this.ensure(values.length * 8);
    for (let i = 0; i < values.length; i++, this.pos += 8) this.view.setFloat64(this.pos, values[i], true);
  }

  /**
   * One scalar event as a whole TFRecord, laid out in place:
   * `Event { wall_time = 1: double; step = 2: int64; summary = 5 { value = 1 { tag = 1; simple_value = 2: float } } }`.
   */
  scalarRecord(tag: Uint8Array, step: number, value: number, wallTimeSeconds: number): void {
    const tagLen = tag.length;
    const valueLen = 1 + varintSize(tagLen) + tagLen + 5;
    const summaryLen = 1 + varintSize(valueLen) + valueLen;
    const stepLen = step >= 0 && step < 0x80 ? 1 : step >= 0 && step <= Number.MAX_SAFE_INTEGER ? varintSize(step) : 10;
    const eventLen = 9 + 1 + stepLen + 1 + varintSize(summaryLen) + summaryLen;
    this.ensure(16 + eventLen);
    const buf = this.buf;
    const view = this.view;
    const at = this.pos;
    view.setUint32(at, eventLen, true);
    view.setUint32(at + 4, 0, true);
    view.setUint32(at + 8, lengthCrc(eventLen, buf, at), true);
    this.pos = at + 12;
    buf[this.pos++] = 0x09; // wall_time, fixed64
    view.setFloat64(this.pos, wallTimeSeconds, true);
    this.pos += 8;
    buf[this.pos++] = 0x10; // step, varint
    if (stepLen === 1) buf[this.pos++] = step;
    else this.varint(step);
    buf[this.pos++] = 0x2a; // summary, length-delimited
    this.varint(summaryLen);
    buf[this.pos++] = 0x0a; // value, length-delimited
    this.varint(valueLen);
    buf[this.pos++] = 0x0a; // tag
    this.varint(tagLen);
    buf.set(tag, this.pos);
    this.pos += tagLen;
    buf[this.pos++] = 0x15; // simple_value, fixed32
    view.setFloat32(this.pos, value, true);
    this.pos += 4;
    view.setUint32(this.pos, maskedCrc32c(buf, at + 12, this.pos), true);
    this.pos += 4;
  }

  /** One TFRecord around `data`, laid out in place (no buffer allocated per record). */
  record(data: Uint8Array): void {
    this.ensure(16 + data.length);
    const at = this.pos;
    this.view.setUint32(at, data.length % 0x100000000, true);
    this.view.setUint32(at + 4, Math.floor(data.length / 0x100000000), true);
    this.view.setUint32(at + 8, maskedCrc32c(this.buf, at, at + 8), true);
    this.buf.set(data, at + 12);
    this.view.setUint32(at + 12 + data.length, maskedCrc32c(data), true);
    this.pos = at + 16 + data.length;
  }

  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
}

const TEXT = new TextEncoder();

// ---- records and messages ----

/**
 * Append one TFRecord holding `data` to `out`: uint64 length, masked CRC of the length, the
 * data, masked CRC of the data (all little-endian).
 */
export function appendRecord(out: ProtoWriter, data: Uint8Array): void {
  out.record(data);
}

/** The first event of every file: says which format follows. */
export function fileVersionEvent(wallTimeSeconds: number): Uint8Array {
  const w = new ProtoWriter(64);
  w.double(1, wallTimeSeconds);
  w.string(3, "brain.Event:2");
  return w.bytes().slice();
}

/** What a labnote histogram gives TensorBoard: bucket edges and counts of the finite values. */
export interface HistogramData {
  edges: ArrayLike<number>;
  counts: ArrayLike<number>;
}

/** The text plugin's metadata: plugin name "text", empty TextPluginData. */
const TEXT_METADATA = (() => {
  const plugin = new ProtoWriter(16);
  plugin.string(1, "text");
  const meta = new ProtoWriter(16);
  meta.bytesField(1, plugin.bytes());
  return meta.bytes().slice();
})();

/**
 * Events into TensorBoard's format, encoded into a buffer the caller writes out: scalars (one
 * event a point, as TensorFlow's writers do), histograms and text.
 */
export class EventEncoder {
  /** The encoded records so far. */
  readonly out = new ProtoWriter(1 << 16);

  /**
   * A scalar point: the value at float32 precision, as TensorBoard keeps it. The record is laid
   * out in place in one pass (its lengths are known up front): no buffer per point.
   */
  scalar(tag: Uint8Array, step: number, value: number, wallTimeMs: number): void {
    this.out.scalarRecord(tag, step, value, wallTimeMs / 1000);
  }

  /**
   * A histogram: TensorBoard's buckets are given by their right edges (`bucket_limit`), the first
   * bucket's left edge by `min`; sum and sum of squares are estimated from the bucket centres.
   */
  histogram(tag: string, step: number, h: HistogramData, wallTimeMs: number): void {
    const n = h.counts.length;
    let num = 0;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const c = h.counts[i];
      const mid = (h.edges[i] + h.edges[i + 1]) / 2;
      num += c;
      sum += c * mid;
      sumSquares += c * mid * mid;
    }
    const histo = new ProtoWriter(32 + 16 * n);
    histo.double(1, n ? h.edges[0] : 0);
    histo.double(2, n ? h.edges[n] : 0);
    histo.double(3, num);
    histo.double(4, sum);
    histo.double(5, sumSquares);
    histo.packedDoubles(6, Array.from({ length: n }, (_, i) => h.edges[i + 1]));
    histo.packedDoubles(7, h.counts);
    const v = new ProtoWriter(64 + histo.length);
    v.string(1, tag);
    v.bytesField(5, histo.bytes());
    this.event(step, wallTimeMs, v.bytes());
  }

  /** Markdown text (the config, say), shown by TensorBoard's Text tab. */
  text(tag: string, step: number, markdown: string, wallTimeMs: number): void {
    const shape = new Uint8Array(0);
    const tensor = new ProtoWriter(64 + markdown.length * 3);
    tensor.int64(1, 7); // DT_STRING
    tensor.bytesField(2, shape);
    tensor.bytesField(8, TEXT.encode(markdown));
    const v = new ProtoWriter(64 + tensor.length);
    v.string(1, tag);
    v.bytesField(8, tensor.bytes());
    v.bytesField(9, TEXT_METADATA);
    this.event(step, wallTimeMs, v.bytes());
  }

  private event(step: number, wallTimeMs: number, value: Uint8Array): void {
    const e = this.ev;
    e.reset();
    e.double(1, wallTimeMs / 1000);
    e.int64(2, step);
    // summary = 5 { value = 1 { … } }: the summary holds one value.
    e.tag(5, 2);
    e.varint(value.length + 1 + varintSize(value.length));
    e.bytesField(1, value);
    appendRecord(this.out, e.bytes());
  }

  private readonly value = new ProtoWriter(128);
  private readonly ev = new ProtoWriter(256);
}

/** Masked CRCs of the 8-byte length headers seen so far (records of a metric share a length). */
const LENGTH_CRCS = new Map<number, number>();

/** The masked CRC of a record's length header, which `buf[at, at + 8)` already holds. */
function lengthCrc(length: number, buf: Uint8Array, at: number): number {
  let c = LENGTH_CRCS.get(length);
  if (c === undefined) {
    c = maskedCrc32c(buf, at, at + 8);
    if (LENGTH_CRCS.size < 4096) LENGTH_CRCS.set(length, c);
  }
  return c;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** A tag's UTF-8 bytes, made once per metric. */
export function tagBytes(tag: string): Uint8Array {
  return TEXT.encode(tag);
}
