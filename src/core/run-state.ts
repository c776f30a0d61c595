/**
 * The inside of a run: its lifecycle (begin, flush, heartbeat, end), its sinks and the events
 * it emits, its record, and the cells recorded with it. The public {@link Run} delegates here;
 * hosts (the notebook kernel, process exit) reach these through {@link runState}, never through
 * methods on the public class.
 */
import * as os from "node:os";
import { LabnoteError, describeThrown, isLabnoteError, recordJson, type CellRecord, type ResourceRecord, type RunRecord, type RunStatus } from "../protocol";
import type { ConfigObject } from "./config/resolve";
import type { Saver, SaverTest } from "./artifacts/formats";
import type { Histogram } from "./metrics/histogram";
import { seededRandom } from "./capture/seed";
import { captureOutput } from "./capture/output";
import type { EndOptions, MetricBatch, ProgressEvent, RunEnvironment, RunSink, RunView, SeriesView } from "./events";
import type { RunStorage } from "./storage";
import { FLUSH_MS, RunMetrics } from "./run-metrics";
import { RunArtifacts } from "./run-artifacts";
import { sha256 } from "./util/hash";
import { warn } from "./util/warn";

/** How often an open run proves it is alive. */
export const HEARTBEAT_MS = 5_000;

/** Everything a run is made from. Experiments build these. */
export interface RunInit {
  experiment: string;
  number: number;
  name: string;
  tags: string[];
  config: ConfigObject;
  frozenConfig: unknown;
  modified: string[];
  added: string[];
  named: string[];
  seed: number;
  metadata: Record<string, unknown>;
  storage: RunStorage;
  sinks: RunSink[];
  savers: [SaverTest, Saver][];
  env: RunEnvironment;
  gitDirty?: Promise<void>;
  captureOutput: boolean;
  rerunOf?: string;
  notebook?: string;
}

/** Ways to describe a cell-based interrupt, from tslab and from plain Node. */
export function isInterrupt(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : typeof e === "string" ? e : "";
  return /Interrupted asynchronously|interrupted by SIGINT/i.test(msg) || (e as { code?: unknown })?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED";
}

type EventName = Exclude<keyof RunSink, "critical" | "drain" | "drainSync">;

/** Runs open in this process (see `registry.ts` for what happens to them at exit). */
export const openRuns: Set<RunState> = new Set();

/** A run's state and lifecycle. */
export class RunState {
  readonly id: string;
  readonly init: RunInit;
  readonly startTime: number;
  readonly storage: RunStorage;
  readonly savers: [SaverTest, Saver][];
  readonly metrics: RunMetrics;
  readonly artifacts: RunArtifacts;
  readonly rng: () => number;
  /** What sinks see of this run. */
  readonly view: RunView;
  status: RunStatus = "running";
  lastFlush: number;
  /** A background write's error, thrown by the next call on the run. */
  pendingError: unknown;
  /** Where the run sits in its kernel session's log (set and kept current by the kernel host). */
  lineage: { session: string; to: number } | undefined;

  constructor(init: RunInit) {
    this.init = init;
    this.id = `${init.experiment}/${init.number}`;
    this.startTime = Date.now();
    this.lastFlush = this.startTime;
    this.lastBeat = this.startTime;
    this.storage = init.storage;
    this.savers = init.savers;
    this.sinks = init.storage.sink ? [init.storage.sink, ...init.sinks] : [...init.sinks];
    this.rng = seededRandom(init.seed);
    this.metrics = new RunMetrics(this);
    this.artifacts = new RunArtifacts(this);
    const self = this;
    this.view = Object.freeze({
      id: this.id,
      experiment: init.experiment,
      number: init.number,
      name: init.name,
      tags: Object.freeze([...init.tags]),
      get status() {
        return self.status;
      },
      get ended() {
        return self.status !== "running";
      },
      startTime: this.startTime,
      dir: init.storage.dir,
      env: init.env,
      record: () => self.record(),
      metricNames: () => self.metrics.names(),
      series: (name: string): SeriesView | undefined => self.metrics.series.get(name),
    });
  }

  /** Throw unless the run is open; `what` names the call for the message. */
  checkOpen(what: string): void {
    if (this.status !== "running") throw this.endedError(what);
    if (this.pendingError) this.throwPending();
  }

  /** Tell sinks the run started and begin flushing and heartbeats. */
  begin(): void {
    openRuns.add(this);
    this.begun = true;
    this.notify("started");
    this.timer = setInterval(() => {
      try {
        this.flush(Date.now());
      } catch (e) {
        this.pendingError ??= e; // surfaced at the next call on the run
      }
    }, FLUSH_MS);
    this.timer.unref();
    if (this.init.captureOutput) this.stopOutput = captureOutput((stream, text) => this.notify("output", stream, text));
  }

  /** Add a sink; one added after the start hears `started` at once. */
  addSink(sink: RunSink): void {
    this.sinks.push(sink);
    if (this.begun) this.call(sink, "started");
  }

  /**
   * Hand buffered points to the sinks. Runs every FLUSH_MS on a timer and, for loops that never
   * yield to the event loop, from log() itself, so a crash loses at most that much.
   */
  flush(now = Date.now(), force = false): void {
    this.lastFlush = now;
    this.handOver();
    if (force || now - this.lastBeat >= HEARTBEAT_MS) this.beat(now);
  }

  /** Hand the points logged since the last flush to the sinks. */
  private handOver(): void {
    const batch: MetricBatch[] = this.metrics.pending();
    if (batch.length) {
      this.notify("metrics", batch);
      this.metrics.handedOver(batch);
    }
  }

  /** The record changed or time passed: tell the sinks (the store rewrites run.json). */
  beat(now = Date.now()): void {
    this.lastBeat = now;
    if (this.begun) this.notify("heartbeat");
  }

  /** A background write failed; the next call on the run throws it. */
  fault(e: unknown): void {
    this.pendingError ??= e;
  }

  /** End, write everything, wait for the sinks to drain. */
  async end(options: EndOptions = {}): Promise<RunRecord> {
    if (this.status !== "running") return this.record();
    await Promise.race([this.init.gitDirty ?? Promise.resolve(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.endSync(options);
    const drains = this.sinks.map((s) => (s.drain ? s.drain().catch((e) => this.reportSinkError(s, e)) : undefined));
    await Promise.all(drains);
    if (this.pendingError) this.throwPending();
    return this.record();
  }

  /** End without waiting (process exit, signals, the kernel's shutdown). */
  endSync(options: EndOptions = {}): void {
    if (this.status !== "running") return;
    const status = options.status ?? (options.error !== undefined ? (isInterrupt(options.error) ? "interrupted" : "failed") : "completed");
    let flushError: unknown;
    try {
      // Points only: the record is written once, by "ended", not also by a heartbeat just before.
      this.handOver();
    } catch (e) {
      flushError = e;
    }
    this.status = status;
    this.endTime = Date.now();
    this.endedBy = options.endedBy ?? "end";
    if (options.result !== undefined) this.result = options.result;
    if (options.error !== undefined) this.error = describeThrown(options.error);
    this.stop();
    this.notify("ended");
    if (flushError) throw flushError;
  }

  /** Block until every sink wrote what it received (signal and exit paths). */
  drainSync(): void {
    for (const s of this.sinks) {
      try {
        s.drainSync?.();
      } catch {
        /* exiting anyway */
      }
    }
  }

  /** Record a notebook cell executed while the run was open; its source is stored once by hash. */
  addCell(cell: Omit<CellRecord, "sha256">, source: string): CellRecord {
    const data = Buffer.from(source, "utf8");
    const rec: CellRecord = { ...cell, sha256: sha256(data) };
    try {
      this.storage.putBlob(data, rec.sha256);
    } catch (e) {
      this.pendingError ??= e;
    }
    this.cells.push(rec);
    if (this.status === "running") this.beat();
    return rec;
  }

  /** Complete a cell's record (end time, ok, error). */
  updateCell(rec: CellRecord, patch: Partial<CellRecord>): void {
    Object.assign(rec, patch);
    if (this.status === "running") this.beat();
    else if (this.begun) this.notify("heartbeat"); // an ended run's record is rewritten once more
  }

  /** The cells recorded so far. */
  get cellList(): readonly CellRecord[] {
    return this.cells;
  }

  /** Record a file the run read. */
  addResource(rec: ResourceRecord): void {
    this.resources.push(rec);
    this.beat();
  }

  /** Histogram steps by name, for the next step and the record. */
  readonly histogramSteps = new Map<string, number>();

  /** Emit an event to every sink; a critical sink's error is thrown after all were called. */
  notify(event: "started" | "ended" | "heartbeat"): void;
  notify(event: "metrics", batch: MetricBatch[]): void;
  notify(event: "histogram", h: Histogram): void;
  notify(event: "artifact", a: import("../protocol").ArtifactRecord): void;
  notify(event: "output", stream: "stdout" | "stderr", text: string): void;
  notify(event: "progress", p: ProgressEvent): void;
  notify(event: EventName, ...args: unknown[]): void {
    let critical: unknown;
    for (const s of this.sinks) {
      try {
        this.call(s, event, ...args);
      } catch (e) {
        if (s.critical) critical ??= e;
      }
    }
    if (critical) throw critical;
  }

  /** The run's record as it stands now (what `run.json` holds). */
  record(): RunRecord {
    const i = this.init;
    const rec: RunRecord = {
      format: 1,
      id: this.id,
      experiment: i.experiment,
      number: i.number,
      name: i.name,
      status: this.status,
      tags: [...i.tags],
      startTime: this.startTime,
      heartbeat: this.lastBeat,
      pid: process.pid,
      hostname: i.env.host?.hostname ?? os.hostname(),
      config: i.config,
      modified: i.modified,
      added: i.added,
      named: i.named,
      seed: i.seed,
      metrics: this.metrics.summaries(),
      histograms: [...this.histogramSteps.keys()],
      artifacts: this.artifacts.list,
      resources: this.resources,
      cells: this.cells,
      metadata: i.metadata,
    };
    if (this.endTime !== undefined) {
      rec.endTime = this.endTime;
      rec.duration = this.endTime - this.startTime;
      rec.endedBy = this.endedBy;
    }
    if (this.result !== undefined) rec.result = JSON.parse(recordJson(this.result) ?? "null");
    if (this.error) rec.error = this.error;
    if (i.rerunOf) rec.rerunOf = i.rerunOf;
    if (i.notebook) rec.notebook = i.notebook;
    if (this.lineage) rec.lineage = { ...this.lineage };
    return rec;
  }

  /** Throw the error a background write left, as a LabnoteError. */
  throwPending(): never {
    const e = this.pendingError;
    this.pendingError = undefined;
    throw isLabnoteError(e) ? e : new LabnoteError("STORE_WRITE", `Cannot write run ${this.id}`, String(e), { cause: e });
  }

  /** The error for a call on an ended run. */
  endedError(what: string): LabnoteError {
    return new LabnoteError("RUN_ENDED", `Cannot ${what} on run ${this.id}`, `the run has ended (${this.status}); start a new run with exp.start() to record more`);
  }

  private call(s: RunSink, event: EventName, ...args: unknown[]): void {
    const fn = s[event] as ((run: RunView, ...a: unknown[]) => void) | undefined;
    if (typeof fn !== "function") return;
    try {
      fn.call(s, this.view, ...args);
    } catch (e) {
      if (s.critical) throw e;
      this.reportSinkError(s, e);
    }
  }

  private reportSinkError(s: RunSink, e: unknown): void {
    if (this.reportedSinks.has(s)) return;
    this.reportedSinks.add(s);
    warn(`labnote: a sink of run ${this.id} failed and is skipped from now on for this error: ${e instanceof Error ? e.message : String(e)}`);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopOutput?.();
    this.stopOutput = undefined;
    openRuns.delete(this);
  }

  private readonly sinks: RunSink[];
  private readonly cells: CellRecord[] = [];
  private readonly resources: ResourceRecord[] = [];
  private readonly reportedSinks = new Set<RunSink>();
  private endTime: number | undefined;
  private endedBy: RunRecord["endedBy"];
  private result: unknown;
  private error: RunRecord["error"];
  private begun = false;
  private timer: NodeJS.Timeout | undefined;
  private stopOutput: (() => void) | undefined;
  private lastBeat: number;
}
