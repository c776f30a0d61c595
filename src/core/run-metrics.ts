/**
 * A run's metrics: the hot `log` path, the series held in memory (24 bytes a point), histograms,
 * and the batches handed to the sinks at each flush.
 */
import { LabnoteError, type MetricSummary } from "../protocol";
import { bucketize, type Histogram } from "./metrics/histogram";
import { Series } from "./metrics/series";
import type { MetricBatch } from "./events";
import { describe } from "../protocol";
import { PointClock } from "./util/clock";

/**
 * How often buffered metric points are handed to the sinks (and so written). With the store's
 * writer at most ~50 ms behind, a killed process loses nothing logged more than 200 ms before.
 */
export const FLUSH_MS = 150;
/** A metric with this many points not yet handed over is flushed at once. */
export const FLUSH_POINTS = 65_536;

/** What the metrics need of their run. */
export interface MetricsHost {
  readonly id: string;
  readonly status: string;
  readonly lastFlush: number;
  readonly pendingError: unknown;
  readonly histogramSteps: Map<string, number>;
  checkOpen(what: string): void;
  endedError(what: string): Error;
  throwPending(): never;
  flush(now: number): void;
  notify(event: "histogram", h: Histogram): void;
}

/** A run's metric series and the rules for logging into them. */
export class RunMetrics {
  readonly series = new Map<string, Series>();

  constructor(state: MetricsHost) {
    this.state = state;
  }

  /**
   * Log one point, or several metrics at one step. The common call (the same metric as the
   * last one, a number, no step) takes a path small enough for the compiler to inline into the
   * caller's loop, so the value is not boxed and nothing is allocated per point.
   */
  log(a: string | Record<string, number>, b?: number, c?: number): void {
    const state = this.state;
    if (typeof a === "string" && a === this.lastName && typeof b === "number" && c === undefined && state.status === "running" && !state.pendingError) {
      const s = this.lastSeries!;
      const t = this.clock.now();
      s.push(s.lastStep + 1, b, t);
      if (s.count - s.flushed >= FLUSH_POINTS || t - state.lastFlush >= FLUSH_MS) state.flush(t);
      return;
    }
    this.logAny(a, b, c);
  }

  private logAny(a: string | Record<string, number>, b?: number, c?: number): void {
    const state = this.state;
    if (state.status !== "running") throw state.endedError("log");
    if (state.pendingError) state.throwPending();
    const t = this.clock.now();
    if (typeof a === "string") {
      if (typeof b !== "number") throw badValue(a, b);
      let s = a === this.lastName ? this.lastSeries! : this.series.get(a);
      if (s === undefined) s = this.add(a);
      this.lastName = a;
      this.lastSeries = s;
      s.push(c === undefined ? s.lastStep + 1 : checkStep(a, c), b, t);
      // Hand over in bounded batches, so no single flush (or its backpressure) is long.
      if (s.count - s.flushed >= FLUSH_POINTS) return state.flush(t);
    } else {
      if (typeof a !== "object" || a === null) throw new LabnoteError("INVALID_VALUE", "Cannot log", `expected a metric name and a number, or an object of numbers; got ${describe(a)}`);
      const entries = Object.entries(a);
      for (const [k, v] of entries) if (typeof v !== "number") throw badValue(k, v);
      for (const [k, v] of entries) {
        const s = this.series.get(k) ?? this.add(k);
        s.push(b === undefined ? s.lastStep + 1 : checkStep(k, b), v, t);
      }
    }
    if (t - state.lastFlush >= FLUSH_MS) state.flush(t);
  }

  /** Log whole lists at once, each from its next step on. */
  logLists(lists: Record<string, ArrayLike<number>>, startStep?: number): void {
    this.state.checkOpen("logMetrics");
    if (typeof lists !== "object" || lists === null) throw new LabnoteError("INVALID_VALUE", "Cannot log metrics", "expected an object of lists, e.g. { loss: [0.9, 0.7] }");
    for (const [k, list] of Object.entries(lists)) {
      if (list === null || typeof list !== "object" || typeof list.length !== "number")
        throw new LabnoteError("INVALID_VALUE", `Cannot log metric "${k}"`, `expected a list of numbers, got ${describe(list)}`);
      for (let i = 0; i < list.length; i++) if (typeof list[i] !== "number") throw badValue(`${k}[${i}]`, list[i]);
    }
    for (const [k, list] of Object.entries(lists)) for (let i = 0; i < list.length; i++) this.log(k, list[i], startStep === undefined ? undefined : startStep + i);
  }

  /** Log a distribution as bucket counts at one step. */
  logHistogram(name: string, values: ArrayLike<number>, step: number | undefined, buckets: number): Histogram {
    const state = this.state;
    state.checkOpen("logHistogram");
    checkMetricName(name);
    const prev = state.histogramSteps.get(name) ?? -1;
    const s = step === undefined ? prev + 1 : checkStep(name, step);
    const h = bucketize(name, values, s, buckets);
    state.histogramSteps.set(name, s);
    state.notify("histogram", h);
    return h;
  }

  /** All points of a metric logged so far. */
  points(name: string): { steps: number[]; values: number[]; times: number[] } {
    const s = this.series.get(name);
    if (!s) throw new LabnoteError("NOT_FOUND", `No metric "${name}" in run ${this.state.id}`, this.series.size ? `it has ${this.names().map((m) => `"${m}"`).join(", ")}` : "nothing was logged yet");
    const { steps, values, times } = s.toArrays();
    return { steps: Array.from(steps), values: Array.from(values), times: Array.from(times) };
  }

  /** Names of the metrics logged so far. */
  names(): string[] {
    return [...this.series.keys()];
  }

  /** Each metric's summary, for the record. */
  summaries(): Record<string, MetricSummary> {
    const out: Record<string, MetricSummary> = {};
    for (const [k, s] of this.series) out[k] = s.summary();
    return out;
  }

  /** Points not yet handed to the sinks. */
  pending(): MetricBatch[] {
    const batch: MetricBatch[] = [];
    for (const s of this.series.values()) if (s.flushed < s.count) batch.push({ series: s, from: s.flushed, to: s.count });
    return batch;
  }

  /** The sinks took these points. */
  handedOver(batch: MetricBatch[]): void {
    for (const b of batch) (b.series as Series).flushed = b.to;
  }

  private add(name: string): Series {
    checkMetricName(name);
    const s = new Series(name);
    this.series.set(name, s);
    return s;
  }

  private readonly state: MetricsHost;
  /** Each point's time: a shared-memory load on most calls (see util/clock.ts). */
  private readonly clock = new PointClock();
  private lastName: string | undefined;
  private lastSeries: Series | undefined;
}

function badValue(name: string, v: unknown): LabnoteError {
  const hint = typeof v === "bigint" ? "; convert it with Number(x)" : typeof v === "string" ? "; parse it with Number(x) first" : "";
  return new LabnoteError("INVALID_VALUE", `Cannot log metric "${name}"`, `expected a number, got ${describe(v)}${hint}`);
}

function checkStep(name: string, step: unknown): number {
  if (typeof step !== "number" || !Number.isFinite(step))
    throw new LabnoteError("INVALID_VALUE", `Cannot log metric "${name}"`, `the step must be a finite number, got ${describe(step)}`);
  return step;
}

function checkMetricName(name: unknown): void {
  if (typeof name !== "string" || name.length === 0 || name.length > 250 || /[\u0000-\u001f]/.test(name))
    throw new LabnoteError("INVALID_NAME", "Invalid metric name", `expected a non-empty string without control characters (at most 250 characters), got ${describe(name)}`);
}
