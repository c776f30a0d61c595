/**
 * The Experiments panel (right sidebar). It follows the active notebook: Live shows every run
 * that notebook's kernel announced in this session, newest first, with the selected run's
 * charts, config and artifacts; History reads the experiment's runs from disk.
 */
import { PathExt } from "@jupyterlab/coreutils";
import type { IDocumentManager } from "@jupyterlab/docmanager";
import type { NotebookPanel } from "@jupyterlab/notebook";
import type { Contents } from "@jupyterlab/services";
import type { Message } from "@lumino/messaging";
import { Widget } from "@lumino/widgets";
import { RunCard, type ArtifactHandler } from "./card";
import { seriesRows } from "./chart";
import { badge, formatDuration, formatNumber, h, setBadge, setText } from "./dom";
import { HistoryView } from "./history";
import type { LiveRun, LiveRuns } from "./live";
import { fromWire } from "./protocol";
import { RunStore, type HistoryRun } from "./store";
import { recordTiming } from "./timing";

type Tab = "live" | "history";

/** The default store root, relative to the notebook's folder, until the kernel names another. */
const DEFAULT_ROOT = "experiments";

export interface ExperimentsPanelOptions {
  docManager: IDocumentManager;
  contents: Contents.IManager;
}

/** The Experiments side panel. */
export class ExperimentsPanel extends Widget {
  constructor(options: ExperimentsPanelOptions) {
    super();
    this._docManager = options.docManager;
    this._contents = options.contents;
    this.id = "jp-labnote-experiments";
    this.addClass("jp-labnote-panel");
    this.title.caption = "Experiments";

    this._notebookName = h("span", { class: "jp-labnote-panel-notebook" });
    this._kernel = h("span", { class: "jp-labnote-kernel" });
    this._liveTab = h("button", { class: "jp-labnote-tab", "data-tab": "live", role: "tab", text: "Live" });
    this._historyTab = h("button", { class: "jp-labnote-tab", "data-tab": "history", role: "tab", text: "History" });
    this._hint = h("div", { class: "jp-labnote-hint", hidden: "" });
    this._summary = h("div", { class: "jp-labnote-live-summary" });
    this._list = h("ul", { class: "jp-labnote-runs", role: "listbox" });
    this._liveCard = new RunCard({ artifacts: this._artifactHandler(), chartHeight: 110, configOpen: true, timingName: "panel" });
    this._liveDetail = h("div", { class: "jp-labnote-detail", hidden: "" }, [this._liveCard.node]);
    this._liveBox = h("div", { class: "jp-labnote-live" }, [this._summary, this._list, this._liveDetail]);
    this._history = new HistoryView();
    this._historyCard = new RunCard({ artifacts: this._artifactHandler(), chartHeight: 110, configOpen: true, timingName: "history-card" });
    this._historyDetail = h("div", { class: "jp-labnote-detail", hidden: "" }, [this._historyCard.node]);
    this._historyBox = h("div", { class: "jp-labnote-history-box", hidden: "" }, [this._history.node, this._historyDetail]);
    this._body = h("div", { class: "jp-labnote-panel-body" }, [this._hint, this._liveBox, this._historyBox]);
    this.node.append(
      h("div", { class: "jp-labnote-panel-header" }, [h("span", { class: "jp-labnote-panel-title", text: "Experiments" }), this._notebookName, this._kernel]),
      h("div", { class: "jp-labnote-tabs", role: "tablist" }, [this._liveTab, this._historyTab]),
      this._body,
    );
    this._history.experimentChanged.connect((_, name) => {
      this._experiment = name;
      void this._loadHistory();
    });
    this._history.refreshRequested.connect(() => void this._loadHistory());
    this._history.selectionChanged.connect((_, runs) => void this._compare(runs));
    this._history.opened.connect((_, run) => void this._openHistoryRun(run));
    this._setTab("live");
    this._renderAll();
  }

  /** The notebook the panel follows, or null. */
  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  /** Follow `notebook` and its kernel's runs. */
  follow(notebook: NotebookPanel | null, live: LiveRuns | undefined): void {
    if (notebook === this._notebook && live === this._live) return;
    if (this._live) {
      this._live.changed.disconnect(this._onLiveChanged, this);
      this._live.kernelStatusChanged.disconnect(this._onKernelStatus, this);
    }
    this._notebook = notebook;
    this._live = live;
    this._selectedId = undefined;
    this._experiment = undefined;
    this._historyRuns = [];
    this._historyExperiments = undefined;
    this._store = undefined;
    this._historyDetail.hidden = true;
    this._history.setComparison([]);
    if (live) {
      live.changed.connect(this._onLiveChanged, this);
      live.kernelStatusChanged.connect(this._onKernelStatus, this);
    }
    this._renderAll();
    void this._loadHistory();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    if (this._frame) cancelAnimationFrame(this._frame);
    this._liveCard.dispose();
    this._historyCard.dispose();
    this._history.dispose();
    super.dispose();
  }

  /** Handle clicks on tabs and run rows (listeners live only while attached). */
  handleEvent(event: Event): void {
    if (event.type !== "click") return;
    const target = event.target as HTMLElement;
    const tab = target.closest(".jp-labnote-tab[data-tab]") as HTMLElement | null;
    if (tab && this.node.contains(tab)) {
      this._setTab(tab.dataset.tab as Tab);
      return;
    }
    const row = target.closest("li[data-id]") as HTMLElement | null;
    if (row && this._list.contains(row)) {
      this._selectedId = row.dataset.id;
      this._renderLive();
    }
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.node.addEventListener("click", this);
  }

  protected override onBeforeDetach(msg: Message): void {
    this.node.removeEventListener("click", this);
    super.onBeforeDetach(msg);
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._tab === "history") void this._loadHistory();
  }

  private _notebookDir(): string {
    return this._notebook ? PathExt.dirname(this._notebook.context.path) : "";
  }

  private _storeRoot(): string {
    const root = this._live?.location?.root ?? DEFAULT_ROOT;
    // An absolute root outside the notebook's folder cannot be read through the contents API.
    return PathExt.join(this._notebookDir(), root.startsWith("/") ? DEFAULT_ROOT : root);
  }

  private _setTab(tab: Tab): void {
    this._tab = tab;
    this._liveTab.setAttribute("aria-selected", String(tab === "live"));
    this._historyTab.setAttribute("aria-selected", String(tab === "history"));
    this._liveBox.hidden = tab !== "live";
    this._historyBox.hidden = tab !== "history";
    this.node.dataset.tab = tab;
    if (tab === "history") void this._loadHistory();
    this._renderHint();
  }

  private _onLiveChanged(_: LiveRuns, run: LiveRun | undefined): void {
    // A run that just ended is now complete on disk: re-read the history.
    if (!run || run.status !== "running") this._historyStale = true;
    this._schedule();
  }

  private _onKernelStatus(): void {
    this._renderHeader();
    this._schedule();
  }

  private _schedule(): void {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this._renderAll();
      if (this._historyStale && this._tab === "history") void this._loadHistory();
    });
  }

  private _renderAll(): void {
    this._renderHeader();
    this._renderLive();
    this._renderHint();
  }

  private _renderHeader(): void {
    const nb = this._notebook;
    setText(this._notebookName, nb ? PathExt.basename(nb.context.path) : "");
    this._notebookName.title = nb?.context.path ?? "";
    const status = this._live?.kernelStatus ?? "";
    setText(this._kernel, nb ? `kernel ${status}` : "");
    this._kernel.dataset.status = status;
  }

  private _renderHint(): void {
    let hint = "";
    const nb = this._notebook;
    if (!nb) hint = "Open a notebook to see its experiments.";
    else if (this._tab === "live" && this._live && this._live.runs.length === 0) {
      const kernel = nb.sessionContext.session?.kernel?.name ?? nb.sessionContext.kernelPreference.name ?? "";
      const hasHistory = (this._historyExperiments?.length ?? 0) > 0;
      if (kernel && !/tslab|jslab/.test(kernel) && !hasHistory) hint = `labnote records runs from the TypeScript kernel (tslab); this notebook uses "${kernel}".`;
      else if (hasHistory) hint = "No runs in this kernel session yet. Past runs are under History.";
      else hint = 'No labnote runs in this notebook yet. In a cell: import { experiment } from "labnote"; then run an experiment — its runs appear here live.';
    }
    this._hint.hidden = !hint;
    setText(this._hint, hint);
    this.node.dataset.labnote = this._live?.seen || (this._historyExperiments?.length ?? 0) > 0 ? "yes" : "no";
  }

  private _renderLive(): void {
    const t0 = performance.now();
    const runs = this._live?.runs ?? [];
    const running = this._live?.runningCount ?? 0;
    setText(this._liveTab, runs.length ? `Live (${runs.length})` : "Live");
    this._summary.hidden = runs.length === 0;
    this._summary.dataset.running = String(running);
    setText(this._summary, `${running} running · ${runs.length} run${runs.length === 1 ? "" : "s"} in this session`);
    // Keep rows keyed by id so a busy run does not rebuild the list.
    const seen = new Set<string>();
    let prev: Element | null = null;
    const selected = this._selectedRun(runs);
    for (const run of runs) {
      seen.add(run.id);
      let row = this._rows.get(run.id);
      if (!row) {
        row = this._makeRow(run);
        this._rows.set(run.id, row);
      }
      this._updateRow(row, run, run === selected);
      const want: Element | null = prev ? prev.nextElementSibling : this._list.firstElementChild;
      if (want !== row.li) {
        if (prev) prev.after(row.li);
        else this._list.prepend(row.li);
      }
      prev = row.li;
    }
    for (const [id, row] of this._rows) {
      if (seen.has(id)) continue;
      row.li.remove();
      this._rows.delete(id);
    }
    this._liveDetail.hidden = !selected;
    if (selected) this._liveCard.update(selected.payload, selected.status);
    recordTiming("panel-live-render", performance.now() - t0);
  }

  private _selectedRun(runs: LiveRun[]): LiveRun | undefined {
    if (this._selectedId) {
      const r = runs.find((x) => x.id === this._selectedId);
      if (r) return r;
    }
    return runs.find((r) => r.status === "running") ?? runs[0];
  }

  private _makeRow(run: LiveRun): LiveRow {
    const status = badge(run.status);
    const name = h("span", { class: "jp-labnote-run-name" });
    const id = h("span", { class: "jp-labnote-run-id" });
    const metric = h("span", { class: "jp-labnote-run-metric" });
    const time = h("span", { class: "jp-labnote-run-time" });
    const li = h("li", { class: "jp-labnote-run", role: "option", "data-id": run.id }, [
      status,
      h("span", { class: "jp-labnote-run-text" }, [name, id]),
      h("span", { class: "jp-labnote-run-side" }, [metric, time]),
    ]);
    return { li, status, name, id, metric, time };
  }

  private _updateRow(row: LiveRow, run: LiveRun, selected: boolean): void {
    const p = run.payload;
    setBadge(row.status, run.status);
    row.li.dataset.status = run.status;
    row.li.classList.toggle("jp-labnote-selected", selected);
    row.li.setAttribute("aria-selected", String(selected));
    setText(row.name, p.name);
    row.name.title = p.name;
    setText(row.id, p.id);
    const m = p.metrics[0];
    setText(row.metric, m ? `${m.name} ${formatNumber(fromWire(m.last))}` : "");
    row.metric.title = m ? m.name : "";
    const end = p.endTime ?? (run.status === "running" ? p.sentAt : run.lastSeen);
    setText(row.time, formatDuration(end - p.startTime));
  }

  private async _loadHistory(): Promise<void> {
    const nb = this._notebook;
    if (!nb) {
      this._history.setExperiments([], undefined);
      this._history.setRuns([], "Open a notebook to see its experiments.");
      return;
    }
    this._historyStale = false;
    const token = ++this._historyToken;
    const root = this._storeRoot();
    if (!this._store || this._store.root !== root) this._store = new RunStore(this._contents, root);
    const store = this._store;
    const experiments = await store.experiments();
    if (token !== this._historyToken) return;
    this._historyExperiments = experiments;
    this._renderHint();
    if (!experiments.length) {
      this._history.setExperiments([], undefined);
      this._history.setRuns([], `No runs on disk yet under ${root || "."}/ — runs are written there as they happen.`);
      return;
    }
    const live = this._live ? this._selectedRun(this._live.runs) : undefined;
    let name = this._experiment;
    if (!name || !experiments.includes(name)) name = live && experiments.includes(live.payload.experiment) ? live.payload.experiment : experiments[0];
    this._experiment = name;
    this._history.setExperiments(experiments, name);
    const runs = await store.runs(name);
    if (token !== this._historyToken) return;
    // The panel may know better than the disk: a run whose kernel died still says "running" there.
    for (const r of runs) {
      const l = this._live?.get(r.id);
      if (l && l.status === "died" && r.status === "running") r.status = "died";
    }
    this._historyRuns = runs;
    this._history.setRuns(runs, runs.length ? undefined : `No runs of ${name} on disk.`);
  }

  private async _compare(runs: HistoryRun[]): Promise<void> {
    const store = this._store;
    if (!store || runs.length < 2) {
      this._history.setComparison([]);
      return;
    }
    const token = ++this._compareToken;
    const picked = runs.slice(0, 10);
    const series = await Promise.all(
      picked.map(async (run) => ({
        run,
        metrics: (await store.metrics(run)).map((m) => ({ name: m.name, rows: seriesRows(run.id, m.series) })),
      })),
    );
    if (token !== this._compareToken) return;
    this._history.setComparison(series);
  }

  private async _openHistoryRun(run: HistoryRun): Promise<void> {
    const store = this._store;
    if (!store) return;
    const payload = await store.payload(run, this._notebookDir());
    this._historyCard.update(payload, run.status);
    this._historyDetail.hidden = false;
  }

  private _artifactHandler(): ArtifactHandler {
    return {
      link: (anchor, artifact) => {
        const path = PathExt.join(this._notebookDir(), artifact.path);
        anchor.title = path;
        anchor.addEventListener("click", (e) => {
          e.preventDefault();
          this._docManager.openOrReveal(path);
        });
      },
      preview: (img, artifact) => {
        const path = PathExt.join(this._notebookDir(), artifact.path);
        void this._contents.getDownloadUrl(path).then(
          (url) => (img.src = url),
          () => img.remove(),
        );
        img.addEventListener("click", () => this._docManager.openOrReveal(path));
      },
    };
  }

  private _docManager: IDocumentManager;
  private _contents: Contents.IManager;
  private _notebook: NotebookPanel | null = null;
  private _live: LiveRuns | undefined;
  private _tab: Tab = "live";
  private _selectedId: string | undefined;
  private _experiment: string | undefined;
  private _store: RunStore | undefined;
  private _historyRuns: HistoryRun[] = [];
  private _historyExperiments: string[] | undefined;
  private _historyStale = false;
  private _historyToken = 0;
  private _compareToken = 0;
  private _frame = 0;
  private _rows = new Map<string, LiveRow>();
  private _notebookName: HTMLElement;
  private _kernel: HTMLElement;
  private _liveTab: HTMLElement;
  private _historyTab: HTMLElement;
  private _hint: HTMLElement;
  private _summary: HTMLElement;
  private _list: HTMLElement;
  private _liveCard: RunCard;
  private _liveDetail: HTMLElement;
  private _liveBox: HTMLElement;
  private _history: HistoryView;
  private _historyCard: RunCard;
  private _historyDetail: HTMLElement;
  private _historyBox: HTMLElement;
  private _body: HTMLElement;
}

interface LiveRow {
  li: HTMLElement;
  status: HTMLElement;
  name: HTMLElement;
  id: HTMLElement;
  metric: HTMLElement;
  time: HTMLElement;
}
