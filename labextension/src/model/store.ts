/**
 * Reads the run store through the Jupyter contents API, so history survives page reloads and
 * kernel restarts. Records and metrics are parsed by the protocol's own parsers; records are
 * cached by their folder's modification time, so a refresh only fetches what changed. Nothing
 * here ever writes: reading the store never changes it.
 */
import { PathExt } from "@jupyterlab/coreutils";
import { ServerConnection, type Contents } from "@jupyterlab/services";
import {
  ANNOTATIONS_FILE,
  INDEX_FILES,
  METRICS_DIR,
  configEntries,
  fromWire,
  parseAnnotations,
  parseIndex,
  planIndexRead,
  entryCurrent,
  withAnnotations,
  type Annotations,
  type IndexEntry,
  type ParsedIndex,
  downsample,
  isExperimentFolder,
  isRunFolder,
  parseMetricsCsv,
  parseMetricsIndex,
  parseMetricSummary,
  summarySeries,
  metricFiles,
  type MetricSummaryFile,
  parseRunRecord,
  RUN_FILES,
  runPayload,
  STALE_MS,
  withEffectiveStatus,
  type MetricPoints,
  type MetricSummary,
  type RunPayload,
  type RunRecord,
  type WireSeries,
} from "../protocol";

/** At most this many of an experiment's most recently changed run folders are read to find running runs. */
export const RUNNING_SCAN = 16;

/** How long one folder listing answers every caller, in ms (short: a Refresh a moment later reads again). */
const LISTING_REUSE_MS = 1000;

/** The part of the contents manager the reader uses (a fake in unit tests). */
export interface ContentsReader {
  get(path: string, options?: Contents.IFetchOptions): Promise<Contents.IModel>;
  /**
   * Where the server serves a file's own bytes (`/files/<path>`). With it and `serverSettings`
   * (both on JupyterLab's contents manager) text is fetched from there: no JSON around it, so a
   * 7 MB experiment index comes in tens of milliseconds rather than in a second.
   */
  getDownloadUrl?(path: string): Promise<string>;
  readonly serverSettings?: ServerConnection.ISettings;
}

/** Said by {@link fileText} when the server does not serve the file's bytes to this reader: ask the contents API. */
export const NOT_SERVED = Symbol("not served");

/**
 * A file's text from the server's file route (see {@link ContentsReader.getDownloadUrl}):
 * undefined when there is no such file, {@link NOT_SERVED} when the route cannot be used (a
 * reader without it, a refused or failed request), so the caller asks the contents API.
 */
export async function fileText(contents: ContentsReader, path: string): Promise<string | undefined | typeof NOT_SERVED> {
  const settings = contents.serverSettings;
  if (!contents.getDownloadUrl || !settings) return NOT_SERVED;
  try {
    const url = await contents.getDownloadUrl(path);
    const res = await ServerConnection.makeRequest(url, { method: "GET", cache: "no-store" }, settings);
    if (res.status === 404) return undefined;
    if (!res.ok) return NOT_SERVED;
    return await res.text();
  } catch {
    return NOT_SERVED;
  }
}

/** A run as History shows it: its record (status by the died rule), its folder and its config as text. */
export interface HistoryRun {
  readonly id: string;
  /** The record, annotations merged (tags joined, notes added). */
  readonly record: RunRecord;
  /** The run's folder, relative to the server root. */
  readonly dir: string;
  /** Dotted config key → JSON text, in the payload's order (modified keys first). */
  readonly config: ReadonlyMap<string, string>;
  /** What a person added (annotations.json), when there is any. */
  readonly annotations?: Annotations;
  /** True when the record is the experiment index's summary (no artifacts, resources or cells but the first): {@link RunStore.full} reads the whole one. */
  readonly partial?: boolean;
}

/** How an experiment's runs were read: from the index, and how many run folders beside it. */
export interface LoadStats {
  fromIndex: number;
  /** Run folders whose record was fetched (no entry, or changed since theirs). */
  fetched: number;
  /** Index lines that could not be used. */
  damaged: number;
}

/** A run folder whose run.json could not be read, and why. */
export interface UnreadableRun {
  readonly dir: string;
  readonly number: number;
  readonly reason: string;
}

/** Why a folder could not be listed: missing (a store not written yet) or another failure. */
export interface ReadFailure {
  /** The contents API's HTTP status, when there was one. */
  readonly status?: number;
  readonly message: string;
  readonly missing: boolean;
}

/** What the reader knows about a run's process beyond its record. */
export interface Liveness {
  /** True for runs whose kernel the browser saw die or restart. */
  dead(id: string): boolean;
}

/** The experiments under a root, or why they could not be listed. */
export type ExperimentsResult = { ok: true; experiments: string[] } | { ok: false; failure: ReadFailure };

/** An experiment's readable runs, newest number first, and the run folders that could not be read. */
export type RunsResult = { ok: true; runs: HistoryRun[]; unreadable: UnreadableRun[]; checked?: boolean } | { ok: false; failure: ReadFailure };

/** A contents-API error as a person reads it; 404 means the path does not exist yet. */
export function readFailure(e: unknown): ReadFailure {
  const status = (e as { response?: { status?: unknown } })?.response?.status;
  const code = typeof status === "number" ? status : undefined;
  let message = e instanceof Error ? e.message : String(e);
  // The server's JSON error body ({"message": …}) is more useful than the status line.
  const m = /"message"\s*:\s*"([^"]*)"/.exec(message);
  if (m) message = m[1];
  return { status: code, message, missing: code === 404 };
}

/**
 * A small text file's content (from the server's file route, else the contents API), or
 * undefined when it cannot be read (not there yet, not a file, or refused): for files whose
 * absence is an answer.
 */
export async function readText(contents: ContentsReader, path: string): Promise<string | undefined> {
  const direct = await fileText(contents, path);
  if (direct !== NOT_SERVED) return direct;
  try {
    const m = await contents.get(path, { content: true, type: "file", format: "text" });
    return typeof m.content === "string" ? m.content : undefined;
  } catch {
    return undefined;
  }
}

/** The store root as a path under the server root, or undefined when it lies outside it. */
export function storePath(notebookDir: string, root: string): string | undefined {
  if (root.startsWith("/")) return undefined;
  const p = PathExt.join(notebookDir, root);
  return p === ".." || p.startsWith("../") ? undefined : p === "." ? "" : p;
}

/** Reads experiments and runs under one store root (a path relative to the server root). */
export class RunStore {
  constructor(contents: ContentsReader, root: string) {
    this._contents = contents;
    this.root = root;
  }

  /** The root, relative to the server root. */
  readonly root: string;

  /** Forget the folder listings, so the next read sees every change (a person asked to refresh). */
  forget(): void {
    this._listings.clear();
  }

  /** Experiment names under the root, most recently changed first. */
  async experiments(): Promise<ExperimentsResult> {
    const dir = await this._list(this.root);
    if (!dir.ok) return dir;
    const experiments = dir.entries
      .filter((e) => e.type === "directory" && isExperimentFolder(e.name))
      .sort((a, b) => Date.parse(b.last_modified) - Date.parse(a.last_modified))
      .map((e) => e.name);
    return { ok: true, experiments };
  }

  /**
   * Every run of `experiment`: the readable ones, newest number first, and the unreadable ones
   * with their reason. Read through the experiment's index (a couple of requests for all runs):
   * only the run folders the index does not describe as they are now have their record fetched.
   *
   * A folder listing of 10,000 runs takes the Jupyter server seconds; `quick` answers without a
   * new one: from the index and the last listing this reader saw (new runs are in the index from
   * their start), and says `checked: false`. A call without `quick` lists the folder and answers
   * for every run folder on disk (`checked: true`).
   */
  async runs(experiment: string, live: Liveness, now = Date.now(), options: { quick?: boolean } = {}): Promise<RunsResult> {
    const expPath = PathExt.join(this.root, experiment);
    let dir: Listing | undefined;
    if (options.quick) dir = this._seen.get(expPath);
    else {
      dir = await this._list(expPath);
      if (!dir.ok) return dir;
      this._seen.set(expPath, dir);
    }
    // A quick read asks the index files themselves: the last listing may be old.
    const index = await this._index(expPath, experiment, !options.quick && dir?.ok ? dir.entries : undefined);
    if (dir === undefined && index === undefined) {
      // Nothing seen yet and no index: only a listing can say what is there.
      return this.runs(experiment, live, now);
    }
    const folders = dir?.ok ? dir.entries.filter((e) => e.type === "directory" && isRunFolder(e.name)) : [];
    const byNumber = new Map(folders.map((f) => [Number(f.name), f]));
    const listed = folders.map((f) => ({ number: Number(f.name), mtime: Date.parse(f.last_modified) }));
    // Runs the index knows that the last listing did not show because they started since (their
    // folder is newer than the experiment's folder as listed; a run deleted before it is not).
    const listedAt = dir?.ok ? dir.modified : undefined;
    if (options.quick && index)
      for (const e of index.entries.values()) if (!byNumber.has(e.number) && (listedAt === undefined || e.mtime > listedAt)) listed.push({ number: e.number, mtime: e.mtime });
    // The listing's times are milliseconds of a finer time: 1 ms of slack keeps a current entry current.
    const plan = planIndexRead(listed, index, 1);
    const runs: HistoryRun[] = [];
    const unreadable: UnreadableRun[] = [];
    for (const e of plan.current) runs.push(this._effective(this._fromEntry(PathExt.join(expPath, String(e.number)), e), live, now));
    await eachLimited(plan.read, 8, async (l) => {
      const f = byNumber.get(l.number)!;
      const r = await this._read(f.path, f.last_modified, now);
      if (r === undefined) return;
      if ("reason" in r) unreadable.push(r);
      else runs.push(this._effective(r, live, now));
    });
    runs.sort((a, b) => b.record.number - a.record.number);
    unreadable.sort((a, b) => b.number - a.number);
    this.lastLoad = { fromIndex: plan.current.length, fetched: plan.read.length, damaged: index?.damaged ?? 0 };
    return { ok: true, runs, unreadable, checked: !options.quick };
  }

  /** How the last {@link runs} call read its experiment. */
  lastLoad: LoadStats | undefined;

  /** A run with its whole record (artifacts, cells, …): itself unless it came from the index. */
  async full(run: HistoryRun): Promise<HistoryRun> {
    if (!run.partial) return run;
    const r = await this._read(run.dir, `fresh:${Date.now()}`, Date.now(), true);
    if (!r || "reason" in r) return run;
    // The status as the reader showed it (the died rule) stays.
    const record: RunRecord = { ...r.record, status: run.record.status };
    if (run.record.endTime !== undefined) record.endTime = run.record.endTime;
    if (run.record.duration !== undefined) record.duration = run.record.duration;
    return { ...run, record, partial: false, annotations: r.annotations };
  }

  /**
   * A running run with its metric values as its summary files say now: they are rewritten about
   * once a second, its run.json only at heartbeats. One listing of its metrics folder, and only
   * the summaries changed since are fetched. The same object back when nothing changed.
   */
  async live(run: HistoryRun): Promise<HistoryRun> {
    const folder = PathExt.join(run.dir, METRICS_DIR);
    const listed = await this._fetchList(folder);
    if (!listed.ok) return run;
    const files = listed.entries.filter((e) => e.type === "file" && /^\d+\.json$/.test(e.name));
    const key = files.map((f) => `${f.name}@${f.last_modified}`).join("|");
    const hit = this._live.get(run.dir);
    if (hit && hit.key === key && hit.base === run.record) return hit.run;
    const metrics: Record<string, MetricSummary> = { ...run.record.metrics };
    const summaries: MetricSummaryFile[] = [];
    await Promise.all(
      files.map(async (f) => {
        const cached = this._liveFiles.get(f.path);
        let summary = cached && cached.modified === f.last_modified ? cached.summary : undefined;
        if (!summary) {
          const t = await this._text(f.path);
          const p = t === undefined ? undefined : parseMetricSummary(t);
          if (!p?.ok) return;
          summary = p.value;
          this._liveFiles.set(f.path, { modified: f.last_modified, summary });
        }
        summaries.push(summary);
        const before = metrics[summary.name];
        // A summary older than the record (a rewrite in flight) never takes values back.
        if (before && before.count > summary.count) return;
        metrics[summary.name] = { ...before, count: summary.count, lastStep: summary.lastStep, last: fromWire(summary.last), min: fromWire(summary.min), max: fromWire(summary.max) };
      }),
    );
    const record: RunRecord = { ...run.record, metrics };
    const out: HistoryRun = { ...run, record };
    this._live.set(run.dir, { key, base: run.record, run: out, summaries });
    return out;
  }

  /** The metric summaries that the last {@link live} read of this run found (what a running run's charts draw); undefined before one. */
  liveSummaries(run: HistoryRun): MetricSummaryFile[] | undefined {
    const hit = this._live.get(run.dir);
    return hit && hit.run === run ? hit.summaries : undefined;
  }

  /**
   * The experiment's index (index.jsonl and index-log.jsonl), fetched again only when a file
   * changed: known from the folder's listing when there is one, else from each file's model.
   */
  private async _index(expPath: string, experiment: string, entries: readonly Contents.IModel[] | undefined): Promise<ParsedIndex | undefined> {
    const names = [INDEX_FILES.index, INDEX_FILES.log];
    const files = entries
      ? names.map((name) => entries.find((e) => e.name === name && e.type === "file"))
      : await Promise.all(names.map((name) => this._contents.get(PathExt.join(expPath, name), { content: false }).catch(() => undefined)));
    if (!files[0] && !files[1]) return undefined;
    const key = files.map((f) => (f ? `${f.last_modified}/${f.size ?? ""}` : "-")).join("|");
    const hit = this._indexes.get(expPath);
    if (hit && hit.key === key) return hit.index;
    const index = (async () => {
      const texts = await Promise.all(files.map((f) => (f ? this._text(f.path) : Promise.resolve(undefined))));
      const parsed: ParsedIndex = { entries: new Map(), damaged: 0 };
      for (const t of texts) if (t !== undefined && !parsed.ignored) parseIndex(t, experiment, parsed);
      return parsed.ignored ? undefined : parsed;
    })();
    this._indexes.set(expPath, { key, index });
    return index;
  }

  /** An index entry as a record read (cached by the entry, so an unchanged index builds nothing again). */
  private _fromEntry(dir: string, e: IndexEntry): { record: RunRecord; dir: string; annotations?: Annotations; partial: true } {
    const hit = this._entries.get(dir);
    if (hit && hit.entry === e) return hit.read;
    const read = { record: e.record, dir, annotations: e.annotations, partial: true as const };
    this._entries.set(dir, { entry: e, read });
    return read;
  }

  /** One run's record by experiment and number, status by the died rule; undefined when unreadable. */
  async run(experiment: string, number: number, live: Liveness, now = Date.now()): Promise<HistoryRun | UnreadableRun | undefined> {
    const dir = PathExt.join(this.root, experiment, String(number));
    // Always fetched: a caller asks because the run may have just changed.
    const r = await this._read(dir, `fresh:${now}`, now, true);
    return r === undefined || "reason" in r ? r : this._effective(r, live, now);
  }

  /**
   * Runs whose record says `running` with a fresh heartbeat, in any experiment, among the run
   * folders changed within the last `window` ms (a running run rewrites its record every few
   * seconds, so its folder is always recent; at most {@link RUNNING_SCAN} per experiment).
   * `notebook` keeps those started from that notebook.
   */
  async running(live: Liveness, notebook: string | undefined, now = Date.now(), window = 10 * STALE_MS): Promise<HistoryRun[]> {
    const ex = await this.experiments();
    if (!ex.ok) return [];
    const out: HistoryRun[] = [];
    const take = (run: HistoryRun) => {
      if (run.record.status === "running" && (notebook === undefined || sameNotebook(run.record.notebook, notebook))) out.push(run);
    };
    for (const name of ex.experiments) {
      const expPath = PathExt.join(this.root, name);
      // An experiment with an index: its run starts are in it (a line at each start), so its
      // newest runs whose line says running are the candidates, and no listing is needed (a
      // listing of 10,000 folders keeps the server busy for seconds, and History waits behind it).
      const indexed = await this._index(expPath, name, undefined);
      if (indexed && indexed.entries.size) {
        const candidates = [...indexed.entries.values()]
          .filter((e) => e.record.status === "running")
          .sort((a, b) => b.number - a.number)
          .slice(0, RUNNING_SCAN);
        await eachLimited(candidates, 8, async (e) => {
          const r = await this._read(PathExt.join(expPath, String(e.number)), `fresh:${now}`, now, true);
          if (r && !("reason" in r)) take(this._effective(r, live, now));
        });
        continue;
      }
      const dir = await this._list(expPath);
      if (!dir.ok) continue;
      // The most recently changed folders only: a notebook runs a few runs at a time, and this
      // must not read a whole sweep of fresh folders before History does.
      // A folder the index describes as it is now, ended, is no running run: it is not read.
      const index = await this._index(PathExt.join(this.root, name), name, dir.entries);
      const ended = (e: Contents.IModel) => {
        const entry = index?.entries.get(Number(e.name));
        return entry !== undefined && entry.record.status !== "running" && entryCurrent(entry, Date.parse(e.last_modified), 1);
      };
      const recent = dir.entries
        .filter((e) => e.type === "directory" && isRunFolder(e.name) && now - Date.parse(e.last_modified) < window && !ended(e))
        .sort((a, b) => Date.parse(b.last_modified) - Date.parse(a.last_modified) || Number(b.name) - Number(a.name))
        .slice(0, RUNNING_SCAN);
      await eachLimited(recent, 8, async (f) => {
        const r = await this._read(f.path, f.last_modified, now);
        if (r && !("reason" in r)) take(this._effective(r, live, now));
      });
    }
    return out.sort((a, b) => b.record.startTime - a.record.startTime);
  }

  /**
   * The experiment the notebook at `notebook` (server-relative) ran last: of each experiment's
   * newest run, the latest one whose record names that notebook. Undefined when none does.
   */
  async experimentOf(notebook: string, experiments: readonly string[]): Promise<string | undefined> {
    let best: { name: string; start: number } | undefined;
    for (const name of experiments) {
      // The index names the newest run without a listing of the whole folder (slow for 10,000 runs).
      const index = await this._index(PathExt.join(this.root, name), name, undefined);
      if (index && index.entries.size) {
        let newest: IndexEntry | undefined;
        for (const e of index.entries.values()) if (!newest || e.number > newest.number) newest = e;
        if (newest && sameNotebook(newest.record.notebook, notebook) && (!best || newest.record.startTime > best.start)) best = { name, start: newest.record.startTime };
        continue;
      }
      const dir = await this._list(PathExt.join(this.root, name));
      if (!dir.ok) continue;
      let newest: Contents.IModel | undefined;
      for (const e of dir.entries) if (e.type === "directory" && isRunFolder(e.name) && (!newest || Number(e.name) > Number(newest.name))) newest = e;
      if (!newest) continue;
      const r = await this._read(newest.path, newest.last_modified, Date.now());
      if (!r || "reason" in r || !sameNotebook(r.record.notebook, notebook)) continue;
      if (!best || r.record.startTime > best.start) best = { name, start: r.record.startTime };
    }
    return best?.name;
  }

  /** A run's metric points, parsed from its metrics.csv (empty when it has none yet). */
  async points(run: HistoryRun): Promise<Map<string, MetricPoints>> {
    const path = PathExt.join(run.dir, RUN_FILES.metrics);
    const key = `${run.record.heartbeat}@${run.record.status}@${run.record.endTime ?? ""}`;
    const hit = this._points.get(path);
    if (hit && hit.key === key) return hit.points;
    // No metrics.csv yet (a run that logged nothing, or one whose first batch is not written): no points.
    const points = parseMetricsCsv((await readText(this._contents, path)) ?? "");
    this._points.set(path, { key, points });
    return points;
  }

  /**
   * Each metric's series reduced to `buckets` min/max buckets, for charts: from the metric
   * summaries of a run of metrics format 2 (a few KB each, however long the run), else from the
   * points of its metrics.csv.
   */
  async series(run: HistoryRun, buckets = 300): Promise<Map<string, WireSeries>> {
    const summaries = await this.summaries(run);
    const out = new Map<string, WireSeries>();
    if (summaries) {
      for (const s of summaries) out.set(s.name, summarySeries(s, buckets));
      return out;
    }
    for (const [name, p] of await this.points(run)) out.set(name, downsample(p.steps, p.values, p.steps.length, buckets));
    return out;
  }

  /** The metric summaries of a run of metrics format 2; undefined for a run written before (metrics.csv only). */
  async summaries(run: HistoryRun): Promise<MetricSummaryFile[] | undefined> {
    const key = `${run.record.heartbeat}@${run.record.status}@${run.record.endTime ?? ""}`;
    const hit = this._summaries.get(run.dir);
    if (hit && hit.key === key) return hit.summaries;
    const index = await this._text(PathExt.join(run.dir, metricFiles.index));
    let summaries: MetricSummaryFile[] | undefined;
    if (index !== undefined) {
      const parsed = parseMetricsIndex(index);
      summaries = [];
      if (parsed.ok) {
        const texts = await Promise.all(parsed.value.metrics.map((m) => this._text(PathExt.join(run.dir, metricFiles.summary(m.id)))));
        for (const t of texts) {
          const p = t === undefined ? undefined : parseMetricSummary(t);
          if (p?.ok) summaries.push(p.value);
        }
      }
    }
    this._summaries.set(run.dir, { key, summaries });
    return summaries;
  }

  /** A small text file's content, or undefined when it is not there (yet). */
  private _text(path: string): Promise<string | undefined> {
    return readText(this._contents, path);
  }

  /**
   * A stored run as the run card's payload (the protocol's one builder, as the kernel's card),
   * paths relative to `notebookDir` as the kernel sees them.
   */
  async payload(shown: HistoryRun, notebookDir: string, buckets = 300): Promise<RunPayload> {
    const run = await this.full(shown);
    const series = await this.series(run, buckets);
    const rel = (p: string) => PathExt.relative(notebookDir || "/", p) || ".";
    return runPayload(
      {
        record: run.record,
        series: (name) => series.get(name) ?? { step: [], min: [], max: [] },
        runDir: rel(run.dir),
        root: rel(this.root),
        cwd: notebookDir,
        sentAt: run.record.endTime ?? Date.now(),
      },
      buckets,
    );
  }

  private _effective(r: { record: RunRecord; dir: string; annotations?: Annotations; partial?: boolean }, live: Liveness, now: number): HistoryRun {
    const record = withEffectiveStatus(r.record, { now, alive: live.dead(r.record.id) ? false : undefined });
    let run = this._shown.get(r.dir);
    if (!run || run.record !== record) {
      const config = new Map(configEntries(record).map((e) => [e.key, e.value]));
      run = { id: record.id, record, dir: r.dir, config, ...(r.annotations ? { annotations: r.annotations } : {}), ...(r.partial ? { partial: true } : {}) };
      this._shown.set(r.dir, run);
    }
    return run;
  }

  /** A folder's listing; one listing serves every caller for a moment (History, the running-run scan and the experiment lookup each ask at page load). */
  private _list(path: string): Promise<Listing> {
    const now = Date.now();
    const hit = this._listings.get(path);
    // Reused while in flight and for a moment after it came (a listing of 10,000 folders is slow).
    if (hit && (hit.at === undefined || now - hit.at < LISTING_REUSE_MS)) return hit.result;
    const entry: { at: number | undefined; result: Promise<Listing> } = { at: undefined, result: this._fetchList(path) };
    void entry.result.then(() => (entry.at = Date.now()));
    this._listings.set(path, entry);
    return entry.result;
  }

  private async _fetchList(path: string): Promise<Listing> {
    try {
      const m = await this._contents.get(path, { content: true, type: "directory" });
      if (!Array.isArray(m.content)) return { ok: false, failure: { message: `${path || "."} is not a folder`, missing: false } };
      return { ok: true, entries: m.content as Contents.IModel[], modified: Date.parse(m.last_modified) };
    } catch (e) {
      return { ok: false, failure: readFailure(e) };
    }
  }

  /** A folder's parsed record (cached by the folder's mtime), why it is unreadable, or undefined for a run still being created. */
  private _read(dir: string, modified: string, now: number, fresh = false): Promise<FolderRead | UnreadableRun | undefined> {
    const hit = this._records.get(dir);
    if (!fresh && hit && hit.modified === modified) return hit.result;
    const result = this._fetch(dir, modified, now);
    this._records.set(dir, { modified, result });
    return result;
  }

  private async _fetch(dir: string, modified: string, now: number): Promise<FolderRead | UnreadableRun | undefined> {
    const number = Number(PathExt.basename(dir));
    let text: string;
    // The annotations beside the record, in parallel (most runs have none: a 404 is expected).
    const notes = this._text(PathExt.join(dir, ANNOTATIONS_FILE));
    try {
      const m = await this._contents.get(PathExt.join(dir, RUN_FILES.record), { content: true, type: "file", format: "text" });
      text = typeof m.content === "string" ? m.content : "";
    } catch (e) {
      const f = readFailure(e);
      // A folder is made before its first record; only an old folder without one is damaged.
      if (f.missing && !(now - Date.parse(modified) > STALE_MS)) {
        this._records.delete(dir);
        return undefined;
      }
      return { dir, number, reason: f.missing ? "run.json is missing (the run's process may have been killed as it started)" : `run.json could not be read: ${f.message}` };
    }
    const parsed = parseRunRecord(text);
    if (!parsed.ok) return { dir, number, reason: parsed.reason };
    const a = await notes;
    const annotations = a === undefined ? undefined : parseAnnotations(a);
    if (annotations && !annotations.ok) return { record: parsed.record, dir };
    return annotations ? { record: withAnnotations(parsed.record, annotations.value), dir, annotations: annotations.value } : { record: parsed.record, dir };
  }

  private _contents: ContentsReader;
  private _listings = new Map<string, { at: number | undefined; result: Promise<Listing> }>();
  private _records = new Map<string, { modified: string; result: Promise<FolderRead | UnreadableRun | undefined> }>();
  private _live = new Map<string, { key: string; base: RunRecord; run: HistoryRun; summaries: MetricSummaryFile[] }>();
  private _liveFiles = new Map<string, { modified: string; summary: MetricSummaryFile }>();
  /** The last listing of each experiment's folder (what `quick` reads are planned against). */
  private _seen = new Map<string, Listing>();
  private _indexes = new Map<string, { key: string; index: Promise<ParsedIndex | undefined> }>();
  private _entries = new Map<string, { entry: IndexEntry; read: FolderRead & { partial: true } }>();
  private _shown = new Map<string, HistoryRun>();
  private _points = new Map<string, { key: string; points: Map<string, MetricPoints> }>();
  private _summaries = new Map<string, { key: string; summaries: MetricSummaryFile[] | undefined }>();
}

/** A folder's entries and its own modification time (ms), or why it could not be listed. */
type Listing = { ok: true; entries: Contents.IModel[]; modified?: number } | { ok: false; failure: ReadFailure };

/** A run folder's record as read (annotations merged), with its annotations. */
interface FolderRead {
  record: RunRecord;
  dir: string;
  annotations?: Annotations;
  partial?: boolean;
}

/** Whether a record's notebook (the kernel's JPY_SESSION_NAME, often absolute) is the notebook at `path` (server-relative). */
export function sameNotebook(recorded: string | undefined, path: string): boolean {
  if (!recorded) return false;
  const a = recorded.replace(/\\/g, "/").replace(/^\/+/, "");
  const b = path.replace(/^\/+/, "");
  return a === b || a.endsWith(`/${b}`);
}

/** Run `fn` over `items`, at most `limit` at a time. */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
