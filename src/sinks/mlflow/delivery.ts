/**
 * One run's delivery into MLflow: the experiment found or created, the run created (or found
 * again by its labnote uid), params, tags, metric points in `runs/log-batch` calls from the
 * outbox's cursors on, artifacts through the proxy, and at the end the final status. All of it
 * happens in one async loop off the logging path; a failure that may pass (no answer, a server
 * error) waits with backoff and tries the same thing again, so nothing is lost, and the cursors
 * saved after each delivered batch keep anything from being sent twice.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { blobPath, flattenConfig, recordJson, trialOf, type ArtifactRecord, type RunRecord } from "../../protocol";
import { reproductionNotebook, reproductionScript } from "../../history/reproduce";
import type { Connection } from "./client";
import { MlflowClient, MlflowRequestError, artifactPrefix } from "./client";
import { KeyMap, LIMITS, clip, jsonStep, jsonValue, mlflowKey, mlflowStatus } from "./rules";
import { RUN_OUTBOX, releaseLock, saveOutbox, saveOutboxAsync, type Outbox, type OutboxFiles } from "./outbox";

/** The tag of a child run that names its parent's MLflow run id (MLflow's UI nests the child under it). */
export const PARENT_TAG = "mlflow.parentRunId";

/** Where a run's code goes among its MLflow artifacts. */
export const CODE_FILES = {
  /** The cells executed while the run was open, as one TypeScript file. */
  cells: "labnote/cells.ts",
  /** Its lineage as a notebook (tslab) that reproduces it. */
  notebook: "labnote/lineage.ipynb",
  /** The same as one TypeScript file. */
  script: "labnote/lineage.ts",
} as const;

/** Points of one metric, read by position. */
export interface PointsView {
  step(i: number): number;
  value(i: number): number;
  time(i: number): number;
}

/** What a delivery reads of its run: the live run in this process, or a run in the store. */
export interface RunSource {
  /** The run's folder (where the outbox lives), undefined for a ghost run. */
  readonly dir: string | undefined;
  /** The store's root (for cell sources), when known. */
  readonly root: string | undefined;
  record(): RunRecord;
  env(): { host?: { user?: string }; git?: { commit?: string; branch?: string; remote?: string } };
  metricNames(): string[];
  /** How many points of the metric may be sent now. */
  available(name: string): number;
  points(name: string): PointsView | undefined;
  /** True once the run has ended (its final status is known). */
  ended(): boolean;
  artifacts(): readonly ArtifactRecord[];
  /** The outbox's and lock's names in `dir` (default: a run's, `mlflow.json` and `mlflow.lock`). */
  readonly files?: OutboxFiles;
  /** The tag that holds labnote's id of what is sent (default `labnote.run_id`). */
  readonly idTag?: string;
  /** Tags besides the run's own, set when it starts. */
  extraTags?(): { key: string; value: string }[];
}

/**
 * Whether the server answers, shared by the deliveries of one sink: one warning when it stops
 * answering, one when it answers again, never a stream of them.
 */
export class Reachability {
  down = false;
  constructor(
    private readonly uri: string,
    private readonly say: (message: string) => void,
    /** What the warning says becomes of what the server has not received. */
    private readonly kept = "Runs go on logging here; what MLflow has not received is kept (mlflow.json in the run's folder) and sent once the server is back.",
  ) {}

  failed(e: unknown): void {
    if (this.down) return;
    this.down = true;
    const why = e instanceof Error ? e.message : String(e);
    const auth = e instanceof MlflowRequestError && (e.status === 401 || e.status === 403) ? " (check MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)" : "";
    this.say(`labnote: the MLflow server at ${this.uri} cannot be reached: ${why}${auth}. ${this.kept}`);
  }

  reached(): void {
    if (!this.down) return;
    this.down = false;
    this.say(`labnote: the MLflow server at ${this.uri} answers again; sending what it has not received.`);
  }
}

/** How a delivery keeps its state and says how far it got. */
export interface DeliveryOptions {
  /**
   * Keep the outbox in the run's folder (default true): the live sink and `labnote sync` do;
   * `labnote export` does not (the server itself says what it holds).
   */
  persist?: boolean;
  /** Hears the count of metric points each delivered batch carried. */
  onPoints?: (n: number) => void;
  /** Hears every request the server answered (a watchdog's sign of life). */
  onAnswer?: () => void;
  /**
   * For a trial of a sweep (the outbox names its `parent`): MLflow's id of the parent run in
   * experiment `experimentId`, creating it if need be; undefined when there is none to nest under.
   */
  parent?: (experimentId: string) => Promise<string | undefined>;
}

/** The first wait after a failure, and the longest. */
export const BACKOFF_MS = { first: 500, max: 10_000 } as const;

/** One run's delivery. */
export class Delivery {
  readonly box: Outbox;
  /** Resolves when the run is in MLflow with its final status. */
  readonly done: Promise<void>;

  constructor(
    readonly client: MlflowClient,
    box: Outbox,
    readonly source: RunSource,
    private readonly reach: Reachability,
    private readonly say: (message: string) => void,
    private readonly options: DeliveryOptions = {},
  ) {
    this.box = box;
    this.metricKeys = new KeyMap(box.metricKeys);
    this.paramKeys = new KeyMap(box.paramKeys);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    if (box.done) this.resolveDone();
  }

  /** There may be something new to send: start the loop unless it runs or waits. */
  poke(): void {
    if (this.box.done || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.loop();
  }

  /** Resolves when nothing is left to send now, or the server does not answer, or after `ms`. */
  settled(ms: number): Promise<void> {
    if (this.box.done || !this.running || this.waiting) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(finish, ms);
      t.unref?.();
      const self = this;
      function finish() {
        clearTimeout(t);
        self.settledWaiters.delete(finish);
        resolve();
      }
      this.settledWaiters.add(finish);
    });
  }

  /**
   * MLflow's id of the run, finding its experiment and finding or creating the run first if need
   * be: what a sweep's trials ask of their parent. Calls at once share one request.
   */
  created(): Promise<string> {
    if (this.box.runId !== undefined && this.box.experimentId !== undefined) return Promise.resolve(this.box.runId);
    return (this.creating ??= (async () => {
      try {
        if (this.box.experimentId === undefined) await this.experimentOnce();
        if (this.box.parent !== undefined && this.box.parentRunId === undefined && this.options.parent) await this.ensureParent();
        if (this.box.runId === undefined) await this.ensureRun();
        return this.box.runId!;
      } finally {
        this.creating = undefined;
      }
    })());
  }

  /** Save the outbox now (exit paths). */
  saveNow(): void {
    if (this.source.dir === undefined || this.options.persist === false) return;
    try {
      saveOutbox(this.source.dir, this.box, this.files.outbox);
    } catch {
      /* the store's own error says more; the cursors saved last stay */
    }
  }

  /** Stop the loop (the process exits); the outbox stays for `labnote sync`. */
  stop(): void {
    this.stopped = true;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        this.again = false;
        if (this.stopped) return;
        const task = this.next();
        if (task === undefined) {
          if (this.again) continue;
          return;
        }
        try {
          await task();
          this.options.onAnswer?.();
          this.failures = 0;
          this.reach.reached();
        } catch (e) {
          if (e instanceof MlflowRequestError && !e.transient && e.status !== 401 && e.status !== 403 && this.refusable) {
            this.refuse(e);
            continue;
          }
          if (!(e instanceof MlflowRequestError)) {
            // Not the server: a file that cannot be read, a bug. Say it once and stop this run's delivery.
            this.say(`labnote: sending run ${this.box.run} to MLflow stopped: ${e instanceof Error ? e.message : String(e)}; its outbox stays for labnote sync`);
            this.stopped = true;
            return;
          }
          this.reach.failed(e);
          this.failures++;
          const wait = Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** Math.min(this.failures - 1, 10)) * (0.8 + Math.random() * 0.4);
          this.waiting = true;
          this.wakeSettled();
          await new Promise<void>((r) => {
            const t = setTimeout(r, wait);
            t.unref?.();
          });
          this.waiting = false;
        }
      }
    } finally {
      this.running = false;
      this.wakeSettled();
    }
  }

  private wakeSettled(): void {
    for (const f of [...this.settledWaiters]) f();
  }

  /** A request the server refused for good (a 4xx other than sign-in): said once, skipped, counted. */
  private refuse(e: MlflowRequestError): void {
    this.refusedNow?.();
    if (!this.warnedRefused) {
      this.warnedRefused = true;
      this.say(`labnote: MLflow refused part of run ${this.box.run} and it is skipped: ${e.message}`);
    }
  }

  /** The next thing to send, in order; undefined when nothing can be sent now. */
  private next(): (() => Promise<void>) | undefined {
    const b = this.box;
    this.refusable = false;
    this.refusedNow = undefined;
    if (b.done) return undefined;
    if (b.experimentId === undefined) return () => this.experimentOnce();
    if (b.parent !== undefined && b.parentRunId === undefined && this.options.parent) return () => this.ensureParent();
    if (b.runId === undefined) return () => this.created().then(() => undefined);
    if (b.reopen) return () => this.reopenRun();
    this.refusable = true;
    if (!b.params) {
      this.refusedNow = () => void (b.params = true);
      return () => this.sendParams();
    }
    if (!b.tags) {
      this.refusedNow = () => void (b.tags = true);
      return () => this.sendTags(this.startTags());
    }
    const metrics = this.metricBatch();
    if (metrics !== undefined) {
      this.refusedNow = () => this.delivered(metrics.ranges, true);
      return () => this.sendMetrics(metrics.json, metrics.ranges, metrics.tags);
    }
    const artifact = this.nextArtifact();
    if (artifact !== undefined) {
      this.refusedNow = () => void b.artifacts.push(artifact.file);
      return () => this.sendArtifact(artifact);
    }
    if (!this.source.ended()) return undefined;
    this.refusable = false;
    return () => this.finish();
  }

  /** Find or create the experiment; calls at once share one request. */
  private experimentOnce(): Promise<void> {
    return (this.finding ??= this.ensureExperiment().finally(() => (this.finding = undefined)));
  }

  private async ensureExperiment(): Promise<void> {
    this.box.experimentId = await this.client.ensureExperiment(this.box.experimentName);
    await this.save();
  }

  /** A trial's parent: its MLflow id, known before the trial's run is created (so it is nested from the start). */
  private async ensureParent(): Promise<void> {
    const b = this.box;
    const id = await this.options.parent!(b.experimentId!);
    if (id === undefined) {
      this.say(`labnote: run ${b.run} is sent to MLflow without its sweep ${b.parent} as parent run (the sweep's MLflow run cannot be found or made)`);
      delete b.parent;
    } else b.parentRunId = id;
    await this.save();
  }

  /** A run that ended in MLflow goes on (a resumed sweep): RUNNING again until it ends. */
  private async reopenRun(): Promise<void> {
    await this.client.updateRun(this.box.runId!, "RUNNING");
    delete this.box.reopen;
    await this.save();
  }

  private async ensureRun(): Promise<void> {
    const b = this.box;
    const rec = this.source.record();
    let info = await this.client.findRun(b.experimentId!, "labnote.uid", b.uid);
    const tags = [
      { key: "mlflow.runName", value: rec.name || rec.id },
      { key: this.source.idTag ?? "labnote.run_id", value: rec.id },
      { key: "labnote.uid", value: b.uid },
    ];
    if (b.parentRunId) tags.push({ key: PARENT_TAG, value: b.parentRunId });
    info ??= await this.client.createRun({
      experiment_id: b.experimentId!,
      run_name: rec.name || rec.id,
      start_time: Math.round(rec.startTime),
      tags,
    });
    b.runId = info.run_id;
    b.artifactPrefix = artifactPrefix(info.artifact_uri) ?? null;
    await this.save();
  }

  private async sendParams(): Promise<void> {
    const rec = this.source.record();
    const params: { key: string; value: string }[] = [];
    const tags: { key: string; value: string }[] = [];
    for (const [name, v] of Object.entries(flattenConfig(rec.config))) {
      const key = this.paramKeys.key(name, (n, k) => this.renameTags.push({ key: clip(`labnote.param_name.${k}`, LIMITS.key), value: clip(n, LIMITS.tagValue) }));
      const value = typeof v === "string" ? v : (recordJson(v) ?? "null");
      if (value.length <= LIMITS.paramValue) {
        params.push({ key, value });
        continue;
      }
      if (this.box.artifactPrefix) {
        const file = `labnote/params/${key}.txt`;
        await this.client.putArtifact(this.box.artifactPrefix, file, Buffer.from(value, "utf8"));
        tags.push({ key: clip(`labnote.param.${key}`, LIMITS.key), value: `over ${LIMITS.paramValue} characters (${value.length}): in the artifact ${file}` });
      } else {
        params.push({ key, value: clip(value, LIMITS.paramValue) });
        tags.push({ key: clip(`labnote.param.${key}`, LIMITS.key), value: `cut to ${LIMITS.paramValue} of its ${value.length} characters (the server does not serve artifacts)` });
      }
    }
    for (let i = 0; i < params.length; i += LIMITS.params) await this.client.logBatch(JSON.stringify({ run_id: this.box.runId, params: params.slice(i, i + LIMITS.params) }));
    const renames = this.renameTags.slice();
    await this.sendTagList([...renames, ...tags]);
    this.renameTags.splice(0, renames.length);
    this.box.params = true;
    await this.save();
  }

  /** The run's tags as they stand when it starts. */
  private startTags(): { key: string; value: string }[] {
    const rec = this.source.record();
    const env = this.source.env();
    const tags: Record<string, string> = {
      "mlflow.runName": rec.name || rec.id,
      "mlflow.source.type": rec.notebook ? "NOTEBOOK" : "LOCAL",
      [this.source.idTag ?? "labnote.run_id"]: rec.id,
      "labnote.experiment": rec.experiment,
      "labnote.host": rec.hostname,
      "labnote.seed": String(rec.seed),
    };
    const user = env.host?.user;
    if (user) tags["mlflow.user"] = user;
    const source = rec.notebook ?? process.argv[1];
    if (source) tags["mlflow.source.name"] = source;
    if (rec.notebook) tags["labnote.notebook"] = rec.notebook;
    if (env.git?.commit) tags["mlflow.source.git.commit"] = env.git.commit;
    if (env.git?.branch) tags["mlflow.source.git.branch"] = env.git.branch;
    if (env.git?.remote) tags["mlflow.source.git.repoURL"] = env.git.remote.replace(/\/\/[^/@]*@/, "//");
    if (rec.cells.length) tags["labnote.cell"] = String(rec.cells[0].executionCount);
    if (rec.rerunOf) tags["labnote.rerun_of"] = rec.rerunOf;
    if (rec.tags.length) tags["labnote.tags"] = rec.tags.join(", ");
    if (this.box.parentRunId) tags[PARENT_TAG] = this.box.parentRunId;
    const sweep = trialOf(rec);
    if (sweep) {
      tags["labnote.sweep"] = sweep.id;
      tags["labnote.trial"] = String(sweep.trial);
    }
    for (const t of this.source.extraTags?.() ?? []) tags[t.key] = t.value;
    for (const t of rec.tags) {
      const key = mlflowKey(t);
      if (!key.startsWith("mlflow.") && !key.startsWith("labnote.") && tags[key] === undefined) tags[key] = "";
    }
    return Object.entries(tags).map(([key, value]) => ({ key, value: clip(value, LIMITS.tagValue) }));
  }

  /** The tags that say how the run ended. */
  private endTags(rec: RunRecord): { key: string; value: string }[] {
    const tags: { key: string; value: string }[] = [{ key: "labnote.status", value: rec.status }];
    if (rec.cells.length) tags.push({ key: "labnote.cells", value: clip(rec.cells.map((c) => c.executionCount).join(", "), LIMITS.tagValue) });
    if (rec.cells.length) tags.push({ key: "labnote.cell", value: String(rec.cells[0].executionCount) });
    if (rec.error) tags.push({ key: "labnote.error", value: clip(`${rec.error.name}: ${rec.error.message}`, LIMITS.tagValue) });
    return tags;
  }

  private async sendTags(tags: { key: string; value: string }[]): Promise<void> {
    await this.sendTagList(tags);
    this.box.tags = true;
    await this.save();
  }

  private async sendTagList(tags: { key: string; value: string }[]): Promise<void> {
    for (let i = 0; i < tags.length; i += LIMITS.tags) await this.client.logBatch(JSON.stringify({ run_id: this.box.runId, tags: tags.slice(i, i + LIMITS.tags) }));
  }

  /** The next `runs/log-batch` of points: at most 1,000 and under 1 MB, taken from each metric in turn. */
  private metricBatch(): { json: string; ranges: { name: string; from: number; to: number }[]; tags: { key: string; value: string }[] } | undefined {
    const names = this.source.metricNames();
    if (names.length === 0) return undefined;
    const parts: string[] = [];
    const ranges: { name: string; from: number; to: number }[] = [];
    // Keys first: a name seen for the first time and renamed adds the tag that records it, sent
    // with the points (again with the next batch if this one fails), at most 100 a call.
    for (const name of names) if (this.source.available(name) > (this.box.metrics[name] ?? 0)) this.metricKeys.key(name, (n, k) => this.renameTags.push({ key: clip(`labnote.metric_name.${k}`, LIMITS.key), value: clip(n, LIMITS.tagValue) }));
    const tags = this.renameTags.slice(0, LIMITS.tags);
    let bytes = 64 + this.box.runId!.length + JSON.stringify(tags).length * 2;
    // The server counts metrics, params and tags together against its limit of one call.
    const room = () => LIMITS.metrics - parts.length - tags.length;
    const start = this.turn++ % names.length;
    for (let k = 0; k < names.length && room() > 0 && bytes < LIMITS.bytes; k++) {
      const name = names[(start + k) % names.length];
      const from = this.box.metrics[name] ?? 0;
      const avail = this.source.available(name);
      if (avail <= from) continue;
      const p = this.source.points(name);
      if (!p) continue;
      const key = this.metricKeys.key(name);
      const keyJson = `{"key":${JSON.stringify(key)},"value":`;
      const keyBytes = Buffer.byteLength(keyJson);
      let i = from;
      for (; i < avail && room() > 0 && bytes < LIMITS.bytes; i++) {
        const rest = `${jsonValue(p.value(i))},"timestamp":${Math.round(p.time(i))},"step":${jsonStep(p.step(i))}}`;
        parts.push(keyJson + rest);
        bytes += keyBytes + rest.length + 1;
      }
      ranges.push({ name, from, to: i });
    }
    if (parts.length === 0) return undefined;
    const tagJson = tags.length ? `,"tags":${JSON.stringify(tags)}` : "";
    return { json: `{"run_id":${JSON.stringify(this.box.runId)},"metrics":[${parts.join(",")}]${tagJson}}`, ranges, tags };
  }

  private async sendMetrics(json: string, ranges: { name: string; from: number; to: number }[], tags: unknown[]): Promise<void> {
    await this.client.logBatch(json);
    this.renameTags.splice(0, tags.length);
    this.delivered(ranges, false);
    if (this.options.onPoints) this.options.onPoints(ranges.reduce((n, r) => n + r.to - r.from, 0));
    await this.save();
  }

  private delivered(ranges: { name: string; from: number; to: number }[], refused: boolean): void {
    for (const r of ranges) {
      if ((this.box.metrics[r.name] ?? 0) < r.to) this.box.metrics[r.name] = r.to;
      if (refused) this.box.refused = (this.box.refused ?? 0) + (r.to - r.from);
    }
  }

  private nextArtifact(): ArtifactRecord | undefined {
    if (!this.box.artifactPrefix || this.source.dir === undefined) return undefined;
    const sent = new Set(this.box.artifacts);
    return this.source.artifacts().find((a) => !sent.has(a.file));
  }

  private async sendArtifact(a: ArtifactRecord): Promise<void> {
    const file = path.join(this.source.dir!, a.file);
    let data: Uint8Array;
    try {
      data = await fs.promises.readFile(file);
    } catch {
      // Removed since (labnote rm, by hand): nothing left to send.
      this.box.artifacts.push(a.file);
      return;
    }
    await this.client.putArtifact(this.box.artifactPrefix!, a.file.split(path.sep).join("/"), data);
    this.box.artifacts.push(a.file);
    await this.save();
  }

  /** The cells the run recorded, as one TypeScript file an MLflow user can read. */
  private cellsFile(rec: RunRecord): string | undefined {
    if (rec.cells.length === 0 || this.source.root === undefined) return undefined;
    const out: string[] = [`// The notebook cells of labnote run ${rec.id}, in the order they ran.`];
    for (const c of rec.cells) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(this.source.root, blobPath(c.sha256)), "utf8");
      } catch {
        text = "// (source not in the store)";
      }
      out.push("", `// ---- cell [${c.executionCount}]${c.notebook ? ` of ${c.notebook}` : ""}${c.ok === false ? ` (failed${c.error ? `: ${c.error.replace(/\n/g, " ")}` : ""})` : ""}`, text);
    }
    return `${out.join("\n")}\n`;
  }

  /**
   * The run's lineage (every cell of its kernel session up to its end, in execution order) as a
   * notebook and a `.ts` file that reproduce it, as `labnote export --to notebook|script` writes
   * them. None for a run without lineage (`capture: { lineage: false }`, not a notebook run).
   */
  private lineageFiles(rec: RunRecord): [string, string][] {
    const root = this.source.root;
    if (rec.lineage === undefined || root === undefined) return [];
    try {
      return [
        [CODE_FILES.notebook, `${JSON.stringify(reproductionNotebook(root, rec), null, 1)}\n`],
        [CODE_FILES.script, reproductionScript(root, rec)],
      ];
    } catch (e) {
      if (!this.warnedLineage) {
        this.warnedLineage = true;
        this.say(`labnote: the lineage of run ${rec.id} is not sent to MLflow: ${e instanceof Error ? e.message : String(e)}`);
      }
      return [];
    }
  }

  private async finish(): Promise<void> {
    const rec = this.source.record();
    await this.sendTagList(this.endTags(rec));
    if (this.box.artifactPrefix) {
      const cells = this.cellsFile(rec);
      if (cells !== undefined) await this.client.putArtifact(this.box.artifactPrefix, CODE_FILES.cells, Buffer.from(cells, "utf8"));
      for (const [file, text] of this.lineageFiles(rec)) await this.client.putArtifact(this.box.artifactPrefix, file, Buffer.from(text, "utf8"));
    }
    const endTime = rec.endTime ?? rec.heartbeat;
    await this.client.updateRun(this.box.runId!, mlflowStatus(rec.status), Math.round(endTime));
    this.box.done = true;
    await this.save();
    if (this.source.dir !== undefined && this.options.persist !== false) releaseLock(this.source.dir, this.files.lock);
    this.resolveDone();
  }

  private async save(): Promise<void> {
    if (this.source.dir === undefined || this.options.persist === false) return;
    try {
      await saveOutboxAsync(this.source.dir, this.box, this.files.outbox);
    } catch (e) {
      if (!this.warnedSave) {
        this.warnedSave = true;
        this.say(`labnote: cannot save ${path.join(this.source.dir, this.files.outbox)} (${e instanceof Error ? e.message : String(e)}); delivery goes on, but a crash now would make labnote sync send some points again`);
      }
    }
  }

  private get files(): OutboxFiles {
    return this.source.files ?? RUN_OUTBOX;
  }

  private creating: Promise<string> | undefined;
  private finding: Promise<void> | undefined;
  private readonly metricKeys: KeyMap;
  /** Tags that record a renamed name, not yet delivered. */
  private readonly renameTags: { key: string; value: string }[] = [];
  private readonly paramKeys: KeyMap;
  private resolveDone!: () => void;
  private running = false;
  private again = false;
  private waiting = false;
  private stopped = false;
  private failures = 0;
  private turn = 0;
  private refusable = false;
  private refusedNow: (() => void) | undefined;
  private warnedRefused = false;
  private warnedSave = false;
  private warnedLineage = false;
  private readonly settledWaiters = new Set<() => void>();
}

export type { Connection };
