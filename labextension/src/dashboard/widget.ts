/**
 * The Experiments dashboard, in JupyterLab's main area: every run of a store (all experiments or
 * one) in a wide table, with the query language of `labnote ls --filter`, a column chooser (the
 * config keys that vary first), sorting by any column, grouping by a config key or tag with
 * counts and the group's best value, and rows ticked by checkbox (shift-click for a range).
 * The id and name columns stay in place while the rest scrolls sideways; only the rows in view
 * are in the page, so ten thousand runs scroll smoothly. Runs still running update from disk
 * a few times a second (their metric summaries), new runs appear within a second, whichever
 * process writes them. Notes and tags are edited here (saved to each run's annotations.json),
 * and runs are deleted to the store's trash and restored from it. An experiment's sweeps are
 * listed above the table; choosing one shows its trials, grouped, on parallel coordinates over
 * the sweep's space and its metric, the best trial marked.
 */
import { Signal, type ISignal } from "@lumino/signaling";
import { Widget } from "@lumino/widgets";
import type { Liveness, RunStore } from "../model/store";
import type { StoreEditor } from "../model/edits";
import { AnnotateView } from "./annotate";
import { TrashView } from "./trash";
import { h, setText } from "../views/dom";
import type { Column } from "../views/columns";
import { parseFilter } from "../views/columns";
import { clickSelect, columnChoices, dashboardRows, groupRuns, metricCellTitle, metricNames, type ColumnChoice, type DashboardRun, type GroupBy } from "./model";
import { formatNumber, sweepAxisIsLog, sweepTag, withAnnotations, type Annotations, type SweepRecord } from "../protocol";
import { ParallelView } from "./parallel";
import { readSweeps, showsSweep, sweepQuery, sweepSummary, SweepsView } from "./sweeps";
import { CHARTED, DashboardCharts } from "./charts";
import { colorSlots, runLabel, slotColor } from "./plots";
import { ScatterView } from "./scatter";
import { RunDetailView } from "./detail";
import type { SourceRenderer } from "../views/code";
import type { FileSource } from "./preview";

/** Every row is this tall (the stylesheet keeps it so): the table renders only the rows in view. */
export const DASHBOARD_ROW_HEIGHT = 26;
const OVERSCAN = 10;
const ALL = "\u0000all";
const NOBODY: Liveness = { dead: () => false };

/** A row of the table: a group's heading, or a run. */
type Item = { kind: "group"; label: string; count: number; best?: string } | { kind: "run"; run: DashboardRun; index: number };

/** Where the dashboard reads from. */
export interface DashboardSource {
  /** The store (under the active notebook's folder, or the panel's root), or why there is none. */
  store(): RunStore | undefined;
  /** Said above the table: which store this is. */
  describe(): string;
  /** Reads artifacts, env.json and output.log for the run detail (the contents manager). */
  files?(): FileSource | undefined;
  /** Opens a file (server-relative) in JupyterLab. */
  open?(path: string): void;
  /** Shows a cell's source in the run detail's Code section (JupyterLab's editor; plain text without). */
  renderSource?: SourceRenderer;
  /** What writes notes, tags and the trash in that store (undefined: the store is read-only here). */
  editor?(): StoreEditor | undefined;
}

/** How often running runs are read again from disk, in ms. */
export const LIVE_MS = 300;
/** New and changed runs are looked for at least this often, in ms (less often while a reload is slow). */
const RELOAD_MS = 1000;
/** The sweep records are read again about this often, in ms (a sweep's record changes as trials end). */
const SWEEPS_MS = 3000;
/** Notes and tags saved here are shown over what disk says for at most this long, in ms. */
const PENDING_MS = 30_000;

/** The dashboard widget. */
export class Dashboard extends Widget {
  constructor(source: DashboardSource) {
    super({ node: h("div", { class: "jp-labnote-dashboard" }) });
    this.id = "labnote-dashboard-content";
    this._source = source;
    this._detail = new RunDetailView({ files: () => source.files?.(), root: () => source.store()?.root, open: source.open ? (p) => source.open?.(p) : undefined, renderSource: source.renderSource });
    this._chartsTab = h("button", { class: "jp-labnote-tab jp-labnote-dashboard-tab", "data-tab": "charts", text: "Charts", title: "The selected runs' metrics, overlaid" });
    this._scatterTab = h("button", { class: "jp-labnote-tab jp-labnote-dashboard-tab", "data-tab": "scatter", text: "Scatter", title: "A config key against a metric summary, for every run in the table" });
    this._chartsHint = h("div", { class: "jp-labnote-hint jp-labnote-charts-hint", text: "Tick runs in the table to chart their metrics here (up to 10, overlaid)." });
    this._scatter.node.hidden = true;
    this._experiment = h("select", { class: "jp-labnote-select", title: "Experiment" });
    this._query = h("input", {
      class: "jp-labnote-filter jp-labnote-dashboard-query",
      type: "search",
      placeholder: "Query: lr<0.01 status=completed tag:v1 name~adam loss.min<0.1 hidden=64",
      title: "key OP value (= != < <= > >= ~): config keys as dotted (optimizer.lr), metric summaries (loss.min, loss.last), status, name, tag:…; plain words match names and tags",
      spellcheck: "false",
    });
    this._group = h("select", { class: "jp-labnote-select jp-labnote-dashboard-group", title: "Group runs by a config key or by tag" });
    this._best = h("select", { class: "jp-labnote-select jp-labnote-dashboard-best", title: "The metric whose best last value (lowest or highest) each group shows" });
    this._columnsButton = h("button", { class: "jp-labnote-button", text: "Columns", title: "Choose the columns" });
    this._parallelButton = h("button", { class: "jp-labnote-button jp-labnote-parallel-toggle", text: "Parallel", title: "Parallel coordinates: the shown config keys and a metric as parallel axes; drag on an axis to filter the table" });
    this._parallel.node.hidden = true;
    this._sweepsButton = h("button", { class: "jp-labnote-button jp-labnote-sweeps-toggle", text: "Sweeps", title: "Show or hide the experiments' sweeps" });
    this._refresh = h("button", { class: "jp-labnote-button jp-labnote-refresh", text: "⟳", title: "Refresh: read the runs from disk again", "aria-label": "Refresh" });
    this._annotateButton = h("button", { class: "jp-labnote-button jp-labnote-annotate-button", text: "Notes & tags", title: "Edit the notes and tags of the first selected run (or click a run's notes or tags cell)" });
    this._deleteButton = h("button", { class: "jp-labnote-button jp-labnote-delete-button", text: "Delete", title: "Move the selected runs to the store's trash (Trash restores them)" });
    this._trashButton = h("button", { class: "jp-labnote-button jp-labnote-trash-button", text: "Trash", title: "Show the runs in the store's trash, to restore them" });
    this._notice = h("div", { class: "jp-labnote-dashboard-notice", role: "status", hidden: "" });
    this._annotate = new AnnotateView(() => this._source.editor?.());
    this._trash = new TrashView(() => this._source.editor?.());
    this._where = h("div", { class: "jp-labnote-dashboard-where" });
    this._error = h("pre", { class: "jp-labnote-filter-note", hidden: "" });
    this._count = h("div", { class: "jp-labnote-history-count jp-labnote-dashboard-count" });
    this._chooser = h("div", { class: "jp-labnote-dashboard-chooser", hidden: "" });
    this._thead = h("thead");
    this._tbody = h("tbody");
    this._table = h("table", { class: "jp-labnote-table jp-labnote-dashboard-table" }, [this._thead, this._tbody]);
    this._scroll = h("div", { class: "jp-labnote-dashboard-scroll" }, [this._table]);
    this.node.append(
      // Groups that wrap as a whole when the dashboard is narrow.
      h("div", { class: "jp-labnote-toolbar jp-labnote-dashboard-toolbar" }, [
        h("div", { class: "jp-labnote-toolgroup jp-labnote-toolgroup-query" }, [this._experiment, this._query]),
        h("div", { class: "jp-labnote-toolgroup" }, [h("span", { class: "jp-labnote-dashboard-label", text: "group by" }), this._group, this._best]),
        h("div", { class: "jp-labnote-toolgroup" }, [this._columnsButton, this._parallelButton, this._sweepsButton]),
        h("div", { class: "jp-labnote-toolgroup" }, [this._annotateButton, this._deleteButton, this._trashButton, this._refresh]),
      ]),
      this._where,
      this._error,
      this._notice,
      this._sweepsView.node,
      this._annotate.node,
      this._trash.node,
      this._count,
      this._chooser,
      this._parallel.node,
      this._scroll,
      h("div", { class: "jp-labnote-dashboard-compare" }, [
        h("div", { class: "jp-labnote-dashboard-tabs" }, [this._chartsTab, this._scatterTab]),
        this._chartsHint,
        this._charts.node,
        this._scatter.node,
      ]),
      this._detail.node,
    );
    this._chartsTab.addEventListener("click", () => this._showTab("charts"));
    this._scatterTab.addEventListener("click", () => this._showTab("scatter"));
    this._scatter.picked.connect((_, id) => this._pick(id));
    this._detail.closed.connect(() => this._renderWindow(true));
    this._showTab("charts");
    this._scroll.addEventListener("scroll", () => {
      if (this._frame) return;
      this._frame = requestAnimationFrame(() => {
        this._frame = 0;
        this._renderWindow();
      });
    });
    this._query.addEventListener("input", () => this._update());
    // A notice answers one action: the next one clears it (before it may say something new).
    const toolbar = this.node.firstElementChild as HTMLElement;
    for (const [where, type] of [[toolbar, "click"], [toolbar, "input"], [toolbar, "change"], [this._tbody, "click"], [this._sweepsView.node, "click"]] as const)
      where.addEventListener(type, (e) => {
        if ((e.target as HTMLElement).closest("button, input, select, td, tr")) this._clearNotice();
      }, true);
    this._sweepsView.chosen.connect((_, s) => (s ? this._chooseSweep(s) : this._leaveSweep()));
    this._sweepsButton.addEventListener("click", () => {
      this._sweepsView.collapsed = !this._sweepsView.collapsed;
      this._showSweeps();
    });
    this._experiment.addEventListener("change", () => void this.load());
    this._group.addEventListener("change", () => this._update());
    this._best.addEventListener("change", () => this._update());
    this._refresh.addEventListener("click", () => {
      this._source.store()?.forget();
      void this.load();
    });
    this._annotateButton.addEventListener("click", () => {
      const run = this.selected[0];
      if (run) this._annotate.show(run);
      else this._say("Select a run first (or click its notes or tags cell).");
    });
    this._deleteButton.addEventListener("click", () => void this._delete());
    this._trashButton.addEventListener("click", () => {
      this._trash.node.hidden = !this._trash.node.hidden;
      if (!this._trash.node.hidden) void this._trash.refresh();
    });
    this._annotate.saved.connect((_, { id, annotations }) => {
      // Shown at once, kept over a read that is older than the save.
      this._pendingAnnotations.set(id, annotations);
      this._apply(this._runs, this._unreadable);
      void this._reload();
    });
    this._trash.restored.connect((_, id) => {
      this._say(`Restored ${id}.`);
      void this._reload();
    });
    this._parallelButton.addEventListener("click", () => {
      this._parallel.node.hidden = !this._parallel.node.hidden;
      this._update();
    });
    this._parallel.changed.connect(() => this._update());
    this._parallel.brushed.connect(() => this._update());
    this._columnsButton.addEventListener("click", () => {
      this._chooser.hidden = !this._chooser.hidden;
    });
    this._chooser.addEventListener("change", (e) => {
      const box = e.target as HTMLInputElement;
      const choice = this._choices.find((c) => c.column.id === box.dataset.col);
      if (choice) choice.shown = box.checked;
      this._update();
    });
    this._thead.addEventListener("click", (e) => {
      const th = (e.target as HTMLElement).closest("th[data-col]") as HTMLElement | null;
      if (!th || th.dataset.col === "select") return;
      const id = th.dataset.col!;
      this._sort = this._sort.id === id ? { id, desc: !this._sort.desc } : { id, desc: false };
      this._update();
    });
    this._tbody.addEventListener("click", (e) => {
      const box = e.target as HTMLElement;
      const opener = box.closest("td[data-open]") as HTMLElement | null;
      if (opener) {
        const run = this._runRows.find((r) => r.id === opener.dataset.open);
        if (run) this.openDetail(run);
        return;
      }
      const cell = box.closest("td[data-col]") as HTMLElement | null;
      if (cell && (cell.dataset.col === "notes" || cell.dataset.col === "tags")) {
        const run = this._runs.find((r) => r.id === cell.closest("tr")?.dataset.id);
        if (run) this._annotate.show(run);
        return;
      }
      if (!(box instanceof HTMLInputElement)) return;
      const index = Number(box.dataset.index);
      this._selected = clickSelect(this._selected, this._runRows, index, this._anchor, (e as MouseEvent).shiftKey);
      this._anchor = index;
      this._renderWindow(true);
      this._renderCount();
      this._selectionChanged.emit(this.selected);
      void this._showCompare();
    });
  }

  /** The selected runs' metrics overlaid, one chart per metric, and where their config differs; the scatter's colours follow. */
  private async _showCompare(): Promise<void> {
    const selected = this.selected;
    this._slots = colorSlots(this._slots, selected.slice(0, CHARTED).map((r) => r.id));
    this._chartsHint.hidden = this._tab !== "charts" || selected.length > 0;
    this._scatter.show(this._runRows, this._runColors());
    await this._charts.show(this._source.store(), selected, this._slots);
    this._chartsTab.textContent = selected.length ? `Charts · ${selected.length} selected` : "Charts";
  }

  /** The charted runs' colours, by id. */
  private _runColors(): Map<string, string> {
    return new Map([...this._slots].map(([id, slot]) => [id, slotColor(slot)]));
  }

  private _showTab(tab: "charts" | "scatter"): void {
    this._tab = tab;
    this._chartsTab.classList.toggle("jp-labnote-active", tab === "charts");
    this._scatterTab.classList.toggle("jp-labnote-active", tab === "scatter");
    this._charts.node.classList.toggle("jp-labnote-tab-hidden", tab !== "charts");
    this._chartsHint.hidden = tab !== "charts" || this._selected.size > 0;
    this._scatter.node.hidden = tab !== "scatter";
    if (tab === "scatter") {
      this._scatter.show(this._runRows, this._runColors());
      this._scatter.redraw();
    }
  }

  /** A scatter point was clicked: tick its run (or untick it) and bring its row into view. */
  private _pick(id: string): void {
    const index = this._runRows.findIndex((r) => r.id === id);
    if (index < 0) return;
    this._selected = clickSelect(this._selected, this._runRows, index, undefined, false);
    this._anchor = index;
    const at = this._items.findIndex((it) => it.kind === "run" && it.run.id === id);
    if (at >= 0) {
      const top = at * DASHBOARD_ROW_HEIGHT;
      const view = this._scroll.clientHeight || 600;
      if (top < this._scroll.scrollTop || top > this._scroll.scrollTop + view - 2 * DASHBOARD_ROW_HEIGHT) this._scroll.scrollTop = Math.max(0, top - view / 3);
    }
    this._flash = id;
    this._renderWindow(true);
    this._renderCount();
    this._selectionChanged.emit(this.selected);
    void this._showCompare();
  }

  /** Open a run's detail drawer. */
  openDetail(run: DashboardRun): void {
    this._detail.show(run);
    this._renderWindow(true);
    this._detail.node.focus({ preventScroll: true });
    // The table's rows may come from the experiment index, whose records leave out the long
    // lists (artifacts, cells): the detail shows the whole record, read from its run.json.
    const store = this._source.store();
    if (!store) return;
    void store.run(run.record.experiment, run.record.number, NOBODY).then((full) => {
      if (full && !("reason" in full) && this._detail.runId === run.id) this._detail.show(full);
    });
  }

  override dispose(): void {
    this._charts.dispose();
    this._scatter.dispose();
    this._parallel.dispose();
    this._detail.dispose();
    this._stopLive();
    super.dispose();
  }

  /** Move the selected runs to the trash; a running one is refused (as labnote rm refuses it). */
  private async _delete(): Promise<void> {
    const runs = this.selected;
    const editor = this._source.editor?.();
    if (runs.length === 0) return this._say("Select the runs to delete first.");
    if (!editor) return this._say("This store lies outside the Jupyter server's root: runs cannot be deleted from here.");
    try {
      await editor.trash(runs);
      for (const r of runs) this._selected.delete(r.id);
      if (this._annotate.run && runs.some((r) => r.id === this._annotate.run?.id)) this._annotate.show(undefined);
      this._say(`Moved ${runs.length === 1 ? runs[0].id : `${runs.length} runs`} to the trash (Trash restores ${runs.length === 1 ? "it" : "them"}).`);
    } catch (e) {
      this._say(e instanceof Error ? e.message : String(e), true, runs.filter((r) => r.record.status === "running").map((r) => r.id));
    }
    await this._reload();
    if (!this._trash.node.hidden) await this._trash.refresh();
  }

  /** Say something above the table; `whileRunning` ties it to runs: it goes when none of them is running. */
  private _say(text: string, error = false, whileRunning: readonly string[] = []): void {
    this._notice.hidden = false;
    this._notice.classList.toggle("jp-labnote-error-text", error);
    setText(this._notice, text);
    this._noticeRuns = new Set(whileRunning);
  }

  private _clearNotice(): void {
    this._notice.hidden = true;
    setText(this._notice, "");
    this._noticeRuns = new Set();
  }

  /** Read everything again from disk (after a change made here). */
  private async _reload(): Promise<void> {
    this._source.store()?.forget();
    await this.load();
  }

  protected override onBeforeDetach(): void {
    this._stopLive();
  }

  /** Poll the disk: running runs' summaries every {@link LIVE_MS}, the listings about every second. */
  private _startLive(): void {
    if (this._timer) return;
    this._timer = window.setInterval(() => void this._tick(), LIVE_MS);
  }

  private _stopLive(): void {
    if (this._timer) window.clearInterval(this._timer);
    this._timer = 0;
  }

  private async _tick(): Promise<void> {
    if (!this.isVisible) return;
    const store = this._source.store();
    if (!store) return;
    const now = Date.now();
    // The run folders' listing about every second, less often when listing is slow (a very large
    // experiment), in the background: it never holds up the live values below.
    if (!this._listing && now - this._reloadedAt >= Math.max(RELOAD_MS, 5 * this._reloadCost)) {
      this._listing = true;
      store.forget();
      void this._read(store, false)
        .then(async (read) => {
          this._reloadedAt = Date.now();
          this._reloadCost = this._reloadedAt - now;
          if (read) await this._applyLive(store, read.runs, read.unreadable);
          if (Date.now() - this._sweepsReadAt >= SWEEPS_MS) await this._readSweeps(store);
        })
        .finally(() => (this._listing = false));
    }
    if (this._ticking) return;
    this._ticking = true;
    try {
      // The indexes every tick (new runs are in them from their start), running runs' summaries.
      const read = await this._read(store, true, false);
      if (read) await this._applyLive(store, read.runs, read.unreadable);
    } finally {
      this._ticking = false;
    }
  }

  /** Show `runs` with running runs' values from their summary files, when anything changed. */
  private async _applyLive(store: RunStore, runs: DashboardRun[], unreadable: number): Promise<void> {
    const live = await Promise.all(runs.map((r) => (r.record.status === "running" ? store.live(r) : r)));
    if (live.length !== this._runs.length || live.some((r, i) => r !== this._runs[i]) || unreadable !== this._unreadable) this._apply(live, unreadable);
  }

  /** Read the sweeps of the experiments shown, and list them. */
  private async _readSweeps(store: RunStore): Promise<void> {
    const files = this._source.files?.();
    if (!files) return;
    this._sweepsReadAt = Date.now();
    const experiments = this._shownExperiments;
    const read = await Promise.all(experiments.map((e) => readSweeps(files, store.root, e)));
    if (experiments !== this._shownExperiments) return;
    this._sweeps = read.flatMap((r) => r.sweeps);
    this._sweepsUnreadable = read.reduce((n, r) => n + r.unreadable.length, 0);
    if (this._sweep) {
      const now = this._sweeps.find((s) => s.id === this._sweep?.id);
      if (now && now !== this._sweep) {
        this._sweep = now;
        this._focusSweep();
        if (!this._parallel.node.hidden) this._update();
      }
    }
    this._showSweeps();
  }

  private _showSweeps(): void {
    this._sweepsView.show(this._sweeps, this._sweep?.id, this._sweepsUnreadable);
    this._sweepsButton.textContent = this._sweeps.length ? `Sweeps (${this._sweeps.length})` : "Sweeps";
    this._sweepsButton.disabled = this._sweeps.length === 0 && this._sweepsUnreadable === 0;
    this._sweepsButton.title = this._sweepsButton.disabled ? "No sweeps in the experiments shown (exp.sweep(…) makes one)" : "Show or hide the experiments' sweeps";
    this._sweepsButton.classList.toggle("jp-labnote-active", !this._sweepsView.node.hidden);
  }

  /** A sweep group's heading: its tag and, for a sweep listed, its name. */
  private _sweepLabel(label: string): string {
    const s = this._sweeps.find((x) => sweepTag(x.number) === label && this._runRows.some((r) => r.record.experiment === x.experiment && r.record.tags.includes(label)));
    return s ? `${s.id}${s.name ? ` "${s.name}"` : ""} · ${s.strategy} · ${s.status}` : label;
  }

  /** The sweep the table shows, if any. */
  get sweep(): SweepRecord | undefined {
    return this._sweep;
  }

  /**
   * Show the trials of sweep `number` of `experiment`: the table filtered to them and grouped,
   * the parallel coordinates over the sweep's space and its metric, the best trial marked.
   */
  async openSweep(experiment: string, number: number): Promise<void> {
    const store = this._source.store();
    if (!store) return this._say(this._source.describe(), true);
    if (this._experiment.value !== ALL && this._experiment.value !== experiment) {
      this._experiment.value = ALL;
      await this.load();
    } else if (this._sweeps.length === 0) await this.load();
    let s = this._sweeps.find((x) => x.experiment === experiment && x.number === number);
    if (!s) {
      await this._readSweeps(store);
      s = this._sweeps.find((x) => x.experiment === experiment && x.number === number);
    }
    if (!s) return this._say(`No sweep ${sweepTag(number)} in experiment ${experiment} of this store (${this._source.describe()}).`, true);
    this._chooseSweep(s);
  }

  private _chooseSweep(s: SweepRecord): void {
    this._sweep = s;
    this._sweepsView.collapsed = false;
    this._query.value = sweepQuery(s, this._experiment.value !== ALL);
    this._group.value = "sweep";
    if (s.metric) {
      this._best.value = `${s.goal}:${s.metric}`;
      this._parallel.setMetric(s.metric);
    }
    this._parallel.node.hidden = false;
    this._focusSweep();
    this._update();
    this._showSweeps();
  }

  private _focusSweep(): void {
    const s = this._sweep;
    if (!s) return this._parallel.focus(undefined);
    const best = s.best ? sweepSummary(s).best : "";
    this._parallel.focus({ best: s.best?.run, goal: s.goal, label: best ? `best ${best}` : "no completed trial yet" });
  }

  /** Leave the sweep: its query and grouping go (when `clear`), the parallel coordinates stay as they were asked. */
  private _leaveSweep(clear = true): void {
    if (!this._sweep) return;
    this._sweep = undefined;
    this._parallel.focus(undefined);
    if (clear) {
      this._query.value = "";
      this._group.value = "";
      this._parallel.node.hidden = true;
      this._update();
    }
    this._showSweeps();
  }

  /** The ticked runs, in table order. */
  get selected(): DashboardRun[] {
    return this._runRows.filter((r) => this._selected.has(r.id));
  }

  get selectionChanged(): ISignal<this, DashboardRun[]> {
    return this._selectionChanged;
  }

  /** Read the store: its experiments, then the runs of the one chosen (or of all). */
  async load(): Promise<void> {
    const store = this._source.store();
    setText(this._where, this._source.describe());
    if (!store) {
      this._runs = [];
      this._update();
      return;
    }
    // First what the experiment indexes say (a table in a moment, even of 10,000 runs), then the
    // same checked against the run folders' listing (seconds for a very large experiment).
    const quick = await this._read(store, true);
    if (quick) this._apply(quick.runs, quick.unreadable);
    await this._readSweeps(store);
    const started = Date.now();
    const read = await this._read(store, false);
    if (!read) return;
    this._reloadedAt = Date.now();
    this._reloadCost = this._reloadedAt - started;
    // Running runs' values as their summary files have them now (their run.json lags by seconds).
    await this._applyLive(store, read.runs, read.unreadable);
  }

  /** The experiments and the runs of the chosen one (or all), or undefined when a newer read started. */
  private async _read(store: RunStore, quick: boolean, supersede = true): Promise<{ runs: DashboardRun[]; unreadable: number } | undefined> {
    // A full read supersedes every read before it; a tick's quick read only answers if nothing newer started.
    const token = supersede ? ++this._readToken : this._readToken;
    const listed = await store.experiments();
    const experiments = listed.ok ? [...listed.experiments].sort() : [];
    const current = this._experiment.value || ALL;
    const names = [...this._experiment.options].map((o) => o.value).join("\n");
    if (names !== [ALL, ...experiments].join("\n")) {
      this._experiment.replaceChildren(h("option", { value: ALL, text: `All experiments (${experiments.length})` }), ...experiments.map((e) => h("option", { value: e, text: e })));
      this._experiment.value = current === ALL || experiments.includes(current) ? current : ALL;
    }
    if (!listed.ok) setText(this._where, `${this._source.describe()} — ${listed.failure.missing ? "no runs yet" : listed.failure.message}`);
    const chosen = this._experiment.value === ALL ? experiments : [this._experiment.value];
    this._shownExperiments = chosen;
    const runs: DashboardRun[] = [];
    let unreadable = 0;
    const now = Date.now();
    for (const r of await Promise.all(chosen.map((e) => store.runs(e, NOBODY, now, { quick })))) {
      if (!r.ok) continue;
      for (const run of r.runs) runs.push(run);
      unreadable += r.unreadable.length;
    }
    return token === this._readToken ? { runs, unreadable } : undefined;
  }

  /** Show these runs: columns, choices and the table again. */
  private _apply(runs: DashboardRun[], unreadable: number): void {
    if (this._pendingAnnotations.size) runs = runs.map((r) => this._withPending(r));
    this._runs = runs;
    if (this._noticeRuns.size && !runs.some((r) => this._noticeRuns.has(r.id) && r.record.status === "running")) this._clearNotice();
    this._unreadable = unreadable;
    this._choices = mergeChoices(this._choices, columnChoices(runs));
    this._fillGroupChoices();
    const metrics = metricNames(runs);
    this._parallel.setMetrics(metrics);
    this._scatter.setChoices(
      this._choices.filter((c) => c.group === "config").map((c) => c.column.label),
      metrics,
    );
    this._renderChooser();
    this._update();
    // Charted runs that changed on disk (a running run's summaries) are drawn anew.
    void this._charts.refresh(this._source.store(), this.selected);
    const editing = this._annotate.run;
    if (editing) {
      const now = runs.find((r) => r.id === editing.id);
      if (now !== editing) this._annotate.show(now);
    }
    this._loaded.emit(runs.length);
  }

  /**
   * A run with the notes and tags saved here, until a read from disk has them (or newer ones):
   * the table shows a save at once and never the value from before it.
   */
  private _withPending(r: DashboardRun): DashboardRun {
    const a = this._pendingAnnotations.get(r.id);
    if (!a) return r;
    // Disk has them (or newer ones), or has not for so long that it is the one to believe.
    if ((r.annotations && r.annotations.time >= a.time) || Date.now() - a.time > PENDING_MS) {
      this._pendingAnnotations.delete(r.id);
      return r;
    }
    const added = r.annotations?.tags ?? [];
    return { ...r, record: withAnnotations({ ...r.record, tags: r.record.tags.filter((t) => !added.includes(t)) }, a), annotations: a };
  }

  /** Emitted with the number of runs each time the table is filled from disk. */
  get loaded(): ISignal<this, number> {
    return this._loaded;
  }

  /** The runs on screen, for tests and the page: filtered and sorted. */
  get rows(): readonly DashboardRun[] {
    return this._runRows;
  }

  protected override onAfterAttach(): void {
    void this.load();
    this._startLive();
  }

  private _columns(): Column[] {
    return this._choices.filter((c) => c.shown).map((c) => c.column);
  }

  private _allColumns(): Column[] {
    return this._choices.map((c) => c.column);
  }

  private _fillGroupChoices(): void {
    const current = this._group.value;
    const keys = this._choices.filter((c) => c.group === "config").map((c) => c.column.label);
    this._group.replaceChildren(
      h("option", { value: "", text: "nothing" }),
      h("option", { value: "tag", text: "tag" }),
      h("option", { value: "sweep", text: "sweep" }),
      ...keys.map((k) => h("option", { value: `config:${k}`, text: k })),
    );
    this._group.value = [...this._group.options].some((o) => o.value === current) ? current : "";
    const bestNow = this._best.value;
    const metrics = metricNames(this._runs);
    this._best.replaceChildren(...metrics.flatMap((m) => [h("option", { value: `min:${m}`, text: `lowest ${m}` }), h("option", { value: `max:${m}`, text: `highest ${m}` })]));
    if ([...this._best.options].some((o) => o.value === bestNow)) this._best.value = bestNow;
  }

  private _groupBy(): GroupBy {
    const v = this._group.value;
    if (v === "tag") return { kind: "tag" };
    if (v === "sweep") return { kind: "sweep" };
    if (v.startsWith("config:")) return { kind: "config", key: v.slice("config:".length) };
    return undefined;
  }

  /** Filter, sort and group again, then render. */
  private _update(): void {
    // Typing another query leaves the sweep.
    if (this._sweep && !showsSweep(this._query.value, this._sweep)) this._leaveSweep(false);
    const { error } = parseFilter(this._query.value);
    this._error.hidden = !error;
    if (error) setText(this._error, error.message);
    this._runRows = dashboardRows(this._runs, this._allColumns(), error ? "" : this._query.value, this._sort);
    if (!this._parallel.node.hidden) {
      // The axes: the config keys shown as columns, then the chosen metric; brushes filter the table.
      // A sweep's axes are its space's keys.
      const axes = this._sweep ? Object.keys(this._sweep.space).map((k) => `config:${k}`) : this._choices.filter((c) => c.group === "config" && c.shown).map((c) => c.column.id);
      const metric = this._parallel.metricAxis;
      const space = this._sweep?.space;
      this._parallel.show(this._runRows, metric ? [...axes, metric] : axes, space ? (id, nums) => id.startsWith("config:") && sweepAxisIsLog(space, id.slice("config:".length), nums) : undefined);
      const inside = this._parallel.inside();
      if (inside) this._runRows = this._runRows.filter((r) => inside.has(r.id));
    }
    this._parallelButton.classList.toggle("jp-labnote-active", !this._parallel.node.hidden);
    const by = this._groupBy();
    this._best.hidden = by === undefined;
    this._group.closest("div")?.classList.toggle("jp-labnote-grouped", by !== undefined);
    const items: Item[] = [];
    if (by === undefined) this._runRows.forEach((run, index) => items.push({ kind: "run", run, index }));
    else {
      const index = new Map(this._runRows.map((r, i) => [r.id, i]));
      const [goal, metric] = this._best.value ? [this._best.value.slice(0, 3) as "min" | "max", this._best.value.slice(4)] : ["min" as const, undefined];
      for (const g of groupRuns(this._runRows, by, metric, goal)) {
        items.push({ kind: "group", label: by.kind === "sweep" ? this._sweepLabel(g.label) : g.label, count: g.runs.length, best: g.best && metric ? `${goal === "min" ? "lowest" : "highest"} ${metric} ${formatNumber(g.best.value)} (${g.best.run})` : undefined });
        for (const run of g.runs) items.push({ kind: "run", run, index: index.get(run.id)! });
      }
    }
    this._items = items;
    this._renderHead();
    this._renderCount();
    this._renderWindow(true);
    if (!this._scatter.node.hidden) this._scatter.show(this._runRows, this._runColors());
  }

  private _renderCount(): void {
    const parts = [`${this._runRows.length} of ${this._runs.length} runs`];
    if (this._selected.size) parts.push(`${this.selected.length} selected`);
    if (this._unreadable) parts.push(`${this._unreadable} unreadable`);
    setText(this._count, parts.join(" · "));
  }

  private _renderChooser(): void {
    const section = (title: string, choices: ColumnChoice[]) =>
      h("fieldset", { class: "jp-labnote-dashboard-choices" }, [
        h("legend", { text: title }),
        ...choices.map((c) => {
          const box = h("input", { type: "checkbox", "data-col": c.column.id });
          box.checked = c.shown;
          return h("label", { class: c.varies ? "jp-labnote-varies" : "", title: c.varies ? "varies between the runs" : "" }, [box, ` ${c.column.label}`]);
        }),
      ]);
    this._chooser.replaceChildren(
      section("Run", this._choices.filter((c) => c.group === "run")),
      section("Config (varying keys first)", this._choices.filter((c) => c.group === "config")),
      section("Metrics", this._choices.filter((c) => c.group === "metric")),
      section("System (sampled by the run's process)", this._choices.filter((c) => c.group === "system")),
    );
  }

  private _renderHead(): void {
    const cols = this._columns();
    const tr = h("tr");
    tr.append(h("th", { class: "jp-labnote-sticky jp-labnote-sticky-0", "data-col": "select" }));
    for (const c of cols) tr.append(this._th(c, sticky(c.id)));
    this._thead.replaceChildren(tr);
  }

  private _th(c: Column, extra: string): HTMLTableCellElement {
    const arrow = this._sort.id === c.id ? (this._sort.desc ? " ▾" : " ▴") : "";
    return h("th", { class: `${c.cls ?? ""} ${extra}`.trim(), "data-col": c.id, title: c.title ?? c.label, text: c.label + arrow });
  }

  /** Render the rows in view (all of them are only spacer height otherwise). */
  private _renderWindow(force = false): void {
    const total = this._items.length;
    const top = this._scroll.scrollTop;
    const height = this._scroll.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / DASHBOARD_ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + height) / DASHBOARD_ROW_HEIGHT) + OVERSCAN);
    if (!force && first === this._window[0] && last === this._window[1]) return;
    this._window = [first, last];
    const cols = this._columns();
    const span = cols.length + 1;
    const rows: HTMLElement[] = [];
    if (first > 0) rows.push(spacer(first * DASHBOARD_ROW_HEIGHT, span));
    for (let i = first; i < last; i++) {
      const item = this._items[i];
      if (item.kind === "group") {
        rows.push(
          h("tr", { class: "jp-labnote-dashboard-grouprow" }, [
            h("td", { colspan: String(span) }, [h("span", { class: "jp-labnote-sticky-text", text: `${item.label} · ${item.count} run${item.count === 1 ? "" : "s"}${item.best ? ` · ${item.best}` : ""}` })]),
          ]),
        );
        continue;
      }
      const r = item.run;
      const box = h("input", { type: "checkbox", "data-index": String(item.index), title: "Select (shift-click selects a range)" });
      box.checked = this._selected.has(r.id);
      const open = this._detail.run?.id === r.id;
      const tr = h("tr", { "data-id": r.id, class: `jp-labnote-status-row-${r.record.status}${open ? " jp-labnote-row-open" : ""}${this._flash === r.id ? " jp-labnote-row-flash" : ""}` }, [
        h("td", { class: "jp-labnote-sticky jp-labnote-sticky-0" }, [box]),
      ]);
      for (const c of cols) {
        const td = h("td", { class: `${c.cls ?? ""} ${sticky(c.id)}${c.id === "status" ? ` jp-labnote-status-text jp-labnote-status-${r.record.status}` : ""}`.trim(), text: c.text(r), "data-col": c.id });
        const title = metricCellTitle(r, c.id);
        if (title) td.title = title;
        if (c.id === "name") {
          // The name opens the run's detail.
          td.dataset.open = r.id;
          td.classList.add("jp-labnote-run-link");
          td.title = `${runLabel(r)}: open its detail`;
        }
        tr.append(td);
      }
      rows.push(tr);
    }
    if (last < total) rows.push(spacer((total - last) * DASHBOARD_ROW_HEIGHT, span));
    this._tbody.replaceChildren(...rows);
    this._table.dataset.count = String(this._runRows.length);
  }

  private readonly _source: DashboardSource;
  private readonly _experiment: HTMLSelectElement;
  private readonly _query: HTMLInputElement;
  private readonly _group: HTMLSelectElement;
  private readonly _best: HTMLSelectElement;
  private readonly _columnsButton: HTMLButtonElement;
  private readonly _refresh: HTMLButtonElement;
  private readonly _where: HTMLElement;
  private readonly _error: HTMLElement;
  private readonly _count: HTMLElement;
  private readonly _chooser: HTMLElement;
  private readonly _thead: HTMLTableSectionElement;
  private readonly _tbody: HTMLTableSectionElement;
  private readonly _table: HTMLTableElement;
  private readonly _scroll: HTMLElement;
  private _runs: DashboardRun[] = [];
  private _runRows: DashboardRun[] = [];
  private _items: Item[] = [];
  private _choices: ColumnChoice[] = [];
  private _unreadable = 0;
  private _sort = { id: "start", desc: true };
  private _selected = new Set<string>();
  private _anchor: number | undefined;
  private _window: [number, number] = [-1, -1];
  private _frame = 0;
  private readonly _selectionChanged = new Signal<this, DashboardRun[]>(this);
  private readonly _charts = new DashboardCharts();
  private readonly _scatter = new ScatterView();
  private readonly _detail: RunDetailView;
  private readonly _chartsTab: HTMLButtonElement;
  private readonly _scatterTab: HTMLButtonElement;
  private readonly _chartsHint: HTMLElement;
  private _tab: "charts" | "scatter" = "charts";
  private _flash: string | undefined;
  private _slots = new Map<string, number>();
  private readonly _parallel = new ParallelView();
  private readonly _parallelButton: HTMLButtonElement;
  private readonly _annotateButton: HTMLButtonElement;
  private readonly _deleteButton: HTMLButtonElement;
  private readonly _trashButton: HTMLButtonElement;
  private readonly _notice: HTMLElement;
  private readonly _annotate: AnnotateView;
  private readonly _trash: TrashView;
  private _timer = 0;
  private _ticking = false;
  private _listing = false;
  private _reloadedAt = 0;
  private _reloadCost = 0;
  private _readToken = 0;
  private readonly _loaded = new Signal<this, number>(this);
  private readonly _sweepsButton: HTMLButtonElement;
  private readonly _sweepsView = new SweepsView();
  private _sweeps: SweepRecord[] = [];
  private _sweepsUnreadable = 0;
  private _sweepsReadAt = 0;
  /** The sweep whose trials the table shows (while the query still says so). */
  private _sweep: SweepRecord | undefined;
  private _shownExperiments: string[] = [];
  private _noticeRuns = new Set<string>();
  private readonly _pendingAnnotations = new Map<string, Annotations>();
}

/** The id and name columns stay in place while the table scrolls sideways. */
function sticky(id: string): string {
  return id === "id" ? "jp-labnote-sticky jp-labnote-sticky-1" : id === "name" ? "jp-labnote-sticky jp-labnote-sticky-2" : "";
}

function spacer(height: number, span: number): HTMLTableRowElement {
  const tr = h("tr", { class: "jp-labnote-spacer" }, [h("td", { colspan: String(span) })]);
  tr.style.height = `${height}px`;
  return tr;
}

/** New choices for new runs, keeping what the person chose to show or hide. */
function mergeChoices(old: readonly ColumnChoice[], fresh: ColumnChoice[]): ColumnChoice[] {
  const before = new Map(old.map((c) => [c.column.id, c.shown]));
  for (const c of fresh) {
    const shown = before.get(c.column.id);
    if (shown !== undefined) c.shown = shown;
  }
  return fresh;
}
