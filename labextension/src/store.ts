/**
 * Reads the run store from disk through the Jupyter contents API, so history survives page
 * reloads and kernel restarts. Layout: `<root>/<experiment>/<number>/run.json` and `metrics.csv`.
 * Records are cached by their folder's modification time; a reload only fetches what changed.
 */
import { PathExt } from "@jupyterlab/coreutils";
import type { Contents } from "@jupyterlab/services";
import { downsample, fromWire, PROTOCOL_VERSION, type RunPayload, type RunStatus, type WireConfigEntry, type WireMetric } from "./protocol";

/** A run heartbeat older than this while the status says running means the process is gone. */
export const STALE_MS = 60_000;

export interface MetricSummary {
  count: number;
  last: number;
  min: number;
  max: number;
  lastStep: number;
}

export interface StoredArtifact {
  name: string;
  file: string;
  size: number;
  format: string;
  mediaType: string;
}

/** One run as read from its run.json, with numbers decoded and the `died` rule applied. */
export interface HistoryRun {
  id: string;
  experiment: string;
  number: number;
  name: string;
  status: RunStatus;
  tags: string[];
  startTime: number;
  endTime?: number;
  duration?: number;
  heartbeat?: number;
  /** Flattened config: dotted key → JSON text. */
  config: Map<string, string>;
  modified: string[];
  added: string[];
  metrics: Map<string, MetricSummary>;
  artifacts: StoredArtifact[];
  error?: { message: string; stack?: string };
  /** The run's folder, relative to the server root. */
  dir: string;
}

function flatten(prefix: string, v: unknown, out: Map<string, string>): void {
  if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else out.set(prefix, JSON.stringify(v) ?? "null");
}

function num(x: unknown): number {
  return fromWire(x);
}

/** Read a run.json text into a HistoryRun; undefined when it is not a run record. */
export function parseRunRecord(text: string, dir: string, now = Date.now()): HistoryRun | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!r || typeof r !== "object" || typeof r.experiment !== "string" || typeof r.number !== "number") return undefined;
  const config = new Map<string, string>();
  flatten("", r.config ?? {}, config);
  const metrics = new Map<string, MetricSummary>();
  if (r.metrics && typeof r.metrics === "object") {
    for (const [name, m] of Object.entries(r.metrics as Record<string, Record<string, unknown>>)) {
      if (!m || typeof m !== "object") continue;
      metrics.set(name, { count: Number(m.count) || 0, last: num(m.last), min: num(m.min), max: num(m.max), lastStep: Number(m.lastStep) || 0 });
    }
  }
  let status = (typeof r.status === "string" ? r.status : "running") as RunStatus;
  const heartbeat = typeof r.heartbeat === "number" ? r.heartbeat : undefined;
  const startTime = typeof r.startTime === "number" ? r.startTime : 0;
  let endTime = typeof r.endTime === "number" ? r.endTime : undefined;
  if (status === "running" && heartbeat !== undefined && now - heartbeat > STALE_MS) {
    status = "died";
    endTime ??= heartbeat;
  }
  const duration = typeof r.duration === "number" ? r.duration : endTime !== undefined ? endTime - startTime : status === "running" ? now - startTime : undefined;
  const strings = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : []);
  const artifacts = Array.isArray(r.artifacts)
    ? (r.artifacts as Record<string, unknown>[])
        .filter((a) => a && typeof a.name === "string" && typeof a.file === "string")
        .map((a) => ({
          name: a.name as string,
          file: a.file as string,
          size: Number(a.size) || 0,
          format: typeof a.format === "string" ? a.format : "",
          mediaType: typeof a.mediaType === "string" ? a.mediaType : "",
        }))
    : [];
  const err = r.error as { message?: unknown; stack?: unknown } | undefined;
  return {
    id: typeof r.id === "string" ? r.id : `${r.experiment}/${r.number}`,
    experiment: r.experiment,
    number: r.number,
    name: typeof r.name === "string" ? r.name : "",
    status,
    tags: strings(r.tags),
    startTime,
    endTime,
    duration,
    heartbeat,
    config,
    modified: strings(r.modified),
    added: strings(r.added),
    metrics,
    artifacts,
    error: err && typeof err.message === "string" ? { message: err.message, stack: typeof err.stack === "string" ? err.stack : undefined } : undefined,
    dir,
  };
}

/** Points of each metric in a metrics.csv text (`metric,step,value,time`); torn or bad lines are skipped. */
export function parseMetricsCsv(text: string): Map<string, { steps: number[]; values: number[] }> {
  const out = new Map<string, { steps: number[]; values: number[] }>();
  const end = text.endsWith("\n") ? text.length : text.lastIndexOf("\n") + 1;
  let pos = text.indexOf("\n") + 1; // skip the header
  if (pos <= 0) return out;
  while (pos < end) {
    const nl = text.indexOf("\n", pos);
    const line = text.slice(pos, nl < 0 ? end : nl).replace(/\r$/, "");
    pos = nl < 0 ? end : nl + 1;
    if (!line) continue;
    let name: string;
    let rest: string;
    if (line[0] === '"') {
      let i = 1;
      let s = "";
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) break;
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (line[i] !== ",") continue;
      name = s;
      rest = line.slice(i + 1);
    } else {
      const c = line.indexOf(",");
      if (c < 0) continue;
      name = line.slice(0, c);
      rest = line.slice(c + 1);
    }
    const f = rest.split(",");
    if (f.length !== 3) continue;
    const step = Number(f[0]);
    const value = f[1] === "NaN" ? NaN : Number(f[1]);
    if (!Number.isFinite(step) || (Number.isNaN(value) && f[1] !== "NaN")) continue;
    let m = out.get(name);
    if (!m) out.set(name, (m = { steps: [], values: [] }));
    m.steps.push(step);
    m.values.push(value);
  }
  return out;
}

/** Reads experiments and runs under one store root (a path relative to the server root). */
export class RunStore {
  constructor(contents: Contents.IManager, root: string) {
    this._contents = contents;
    this.root = root;
  }

  readonly root: string;

  /** Experiment names under the root, most recently changed first; [] when there is no store. */
  async experiments(): Promise<string[]> {
    const dir = await this._list(this.root);
    if (!dir) return [];
    return dir
      .filter((e) => e.type === "directory" && !e.name.startsWith("."))
      .sort((a, b) => Date.parse(b.last_modified) - Date.parse(a.last_modified))
      .map((e) => e.name);
  }

  /** Every readable run of `experiment`, newest number first. */
  async runs(experiment: string): Promise<HistoryRun[]> {
    const base = PathExt.join(this.root, experiment);
    const dir = await this._list(base);
    if (!dir) return [];
    const folders = dir.filter((e) => e.type === "directory" && /^\d+$/.test(e.name));
    const out: HistoryRun[] = [];
    let next = 0;
    const worker = async () => {
      while (next < folders.length) {
        const f = folders[next++];
        const run = await this._run(f.path, f.last_modified);
        if (run) out.push(run);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, folders.length) }, worker));
    return out.sort((a, b) => b.number - a.number);
  }

  /** A run's metric points, downsampled to `buckets` per metric for charts. */
  async metrics(run: HistoryRun, buckets = 300): Promise<WireMetric[]> {
    const path = PathExt.join(run.dir, "metrics.csv");
    const key = `${path}@${run.heartbeat ?? ""}@${run.status}`;
    const hit = this._metricCache.get(path);
    if (hit && hit.key === key) return hit.metrics;
    let text = "";
    try {
      const m = await this._contents.get(path, { content: true, type: "file", format: "text" });
      text = typeof m.content === "string" ? m.content : "";
    } catch {
      return [];
    }
    const out: WireMetric[] = [];
    for (const [name, p] of parseMetricsCsv(text)) {
      const s = run.metrics.get(name);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of p.values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const n = p.steps.length;
      out.push({
        name,
        count: n,
        lastStep: p.steps[n - 1] ?? 0,
        last: s ? (s.last as number) : p.values[n - 1],
        min: lo,
        max: hi,
        series: downsample(p.steps, p.values, n, buckets),
      });
    }
    this._metricCache.set(path, { key, metrics: out });
    return out;
  }

  /**
   * A history run as a run payload, so the panel can show it with the same card as a live run.
   * `notebookDir` turns artifact paths into paths relative to the notebook's folder.
   */
  async payload(run: HistoryRun, notebookDir: string): Promise<RunPayload> {
    const metrics = await this.metrics(run);
    const config: WireConfigEntry[] = [...run.config].map(([key, value]) => ({
      key,
      value,
      modified: run.modified.includes(key),
      added: run.added.includes(key),
    }));
    return {
      v: PROTOCOL_VERSION,
      kind: "run",
      id: run.id,
      experiment: run.experiment,
      number: run.number,
      name: run.name,
      status: run.status,
      tags: run.tags,
      startTime: run.startTime,
      endTime: run.endTime ?? (run.duration !== undefined ? run.startTime + run.duration : undefined),
      sentAt: run.endTime ?? Date.now(),
      config,
      metrics,
      artifacts: run.artifacts.map((a) => ({
        name: a.name,
        path: PathExt.relative(notebookDir || "/", PathExt.join(run.dir, a.file)),
        size: a.size,
        format: a.format,
        mediaType: a.mediaType,
      })),
      error: run.error,
      root: this.root,
      cwd: notebookDir,
    };
  }

  private async _list(path: string): Promise<Contents.IModel[] | undefined> {
    try {
      const m = await this._contents.get(path, { content: true, type: "directory" });
      return Array.isArray(m.content) ? (m.content as Contents.IModel[]) : undefined;
    } catch {
      return undefined;
    }
  }

  private async _run(dir: string, modified: string): Promise<HistoryRun | undefined> {
    const hit = this._runCache.get(dir);
    // A running run's `died` status depends on the clock, so it is re-derived on every read.
    if (hit && hit.modified === modified && hit.run.status !== "running") return hit.run;
    try {
      const m = await this._contents.get(PathExt.join(dir, "run.json"), { content: true, type: "file", format: "text" });
      const run = typeof m.content === "string" ? parseRunRecord(m.content, dir) : undefined;
      if (run) this._runCache.set(dir, { modified, run });
      return run;
    } catch {
      return undefined;
    }
  }

  private _contents: Contents.IManager;
  private _runCache = new Map<string, { modified: string; run: HistoryRun }>();
  private _metricCache = new Map<string, { key: string; metrics: WireMetric[] }>();
}
