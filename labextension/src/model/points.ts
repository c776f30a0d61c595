/**
 * Raw points of a zoomed range of a stored metric, read from the browser. A run of metrics
 * format 2 keeps each metric's points in `metrics/<id>.f64` (float64 triples); Jupyter serves
 * files at `/files/<path>` with HTTP Range support (tornado's StaticFileHandler: `206` with a
 * `Content-Range`, a range past the end `416`), so only the bytes of the wanted points travel:
 * the protocol's `readRange` places them (see src/protocol/ranges.ts) and this module makes the
 * requests. A server that answers a range request with the whole file is cut off at once and
 * said so; the file is never downloaded whole. Runs written before format 2 have only their
 * metrics.csv, which the dashboard reads whole anyway: their ranges are sliced from those
 * points (`sliceRange`).
 */
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";
import { metricFiles, parseMetricsIndex, POINT_BYTES, readRange, type ColumnRead, type MetricSummaryFile, type RangeKey, type RangeResult } from "../protocol";

/** A range of a metric's raw points, or why it could not be read. */
export type PointsResult = RangeResult | { kind: "error"; reason: string };

/** A request the reader made, for tests and benches: the path, the byte range asked and the bytes received. */
export interface PointsRequest {
  path: string;
  range: [number, number];
  received: number;
}

/** Reads ranges of raw points of stored runs through the Jupyter server's `/files/` handler. */
export class PointsReader {
  constructor(settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {
    this._settings = settings;
  }

  /** Every request made so far (the last 200). */
  readonly requests: PointsRequest[] = [];

  /**
   * The points of metric `name` of the run in `dir` (server-relative) whose `key` lies in
   * `[lo, hi]`, and one on either side; at most `most`, else `too-many`. `summary` is the
   * metric's summary file (it places the reads).
   */
  async range(dir: string, name: string, summary: MetricSummaryFile | undefined, lo: number, hi: number, key: RangeKey, most: number): Promise<PointsResult> {
    const id = await this._metricId(dir, name);
    if (id === undefined) return { kind: "error", reason: `metric ${name} is not in ${metricFiles.index}` };
    const path = URLExt.join(dir, metricFiles.column(id));
    try {
      return await readRange((from, to) => this._read(path, from, to), summary, lo, hi, key, most);
    } catch (e) {
      return { kind: "error", reason: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Bytes of points `[from, to)` of the file at `path` by one range request. */
  private async _read(path: string, from: number, to: number): Promise<ColumnRead> {
    if (to <= from) return { bytes: new Uint8Array(0) };
    const first = from * POINT_BYTES;
    const last = to * POINT_BYTES - 1;
    const url = URLExt.join(this._settings.baseUrl, "files", URLExt.encodeParts(path));
    const abort = new AbortController();
    const res = await ServerConnection.makeRequest(url, { headers: { Range: `bytes=${first}-${last}` }, cache: "no-store", signal: abort.signal }, this._settings);
    const total = contentTotal(res.headers.get("Content-Range"));
    if (res.status === 416) {
      this._log(path, first, last, 0);
      return { bytes: new Uint8Array(0), total };
    }
    if (res.status === 200) {
      // The whole file is on its way (a server or proxy without range support): stop it.
      abort.abort();
      throw new Error(`the Jupyter server answered a range request for ${path} with the whole file (no byte ranges): raw points are not read`);
    }
    if (res.status === 404) throw new Error(`${path} is not there`);
    if (res.status !== 206) throw new Error(`${path}: the server answered ${res.status} ${res.statusText}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    this._log(path, first, last, bytes.byteLength);
    return { bytes, total };
  }

  private _log(path: string, first: number, last: number, received: number): void {
    this.requests.push({ path, range: [first, last], received });
    if (this.requests.length > 200) this.requests.splice(0, this.requests.length - 200);
  }

  /** The column id of metric `name` in the run's metrics index (read once per run, again when a name is new to it). */
  private async _metricId(dir: string, name: string): Promise<number | undefined> {
    let ids = this._ids.get(dir);
    if (!ids || !ids.has(name)) {
      ids = await this._readIndex(dir);
      if (ids) this._ids.set(dir, ids);
    }
    return ids?.get(name);
  }

  private async _readIndex(dir: string): Promise<Map<string, number> | undefined> {
    const url = URLExt.join(this._settings.baseUrl, "files", URLExt.encodeParts(URLExt.join(dir, metricFiles.index)));
    try {
      const res = await ServerConnection.makeRequest(url, { cache: "no-store" }, this._settings);
      if (!res.ok) return undefined;
      const parsed = parseMetricsIndex(await res.text());
      return parsed.ok ? new Map(parsed.value.metrics.map((m) => [m.name, m.id])) : undefined;
    } catch {
      return undefined;
    }
  }

  private _settings: ServerConnection.ISettings;
  private _ids = new Map<string, Map<string, number>>();
}

/** The file's length from a `Content-Range` header: `bytes 0-23/240`, or `bytes *\/240` for a range past the end. */
export function contentTotal(header: string | null): number | undefined {
  const m = header ? /\/(\d+)\s*$/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
}
