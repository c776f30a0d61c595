/**
 * The Experiments panel (right sidebar). It follows the active notebook and composes child
 * widgets: the header (notebook, kernel, tabs), Live (the kernel's runs, from `model/live`)
 * and History (the store on disk, from `model/store`: table, compare and run detail views).
 * What it shows of a store that cannot be read is the failure itself, with what to do.
 */
import { PathExt } from "@jupyterlab/coreutils";
import type { IDocumentManager } from "@jupyterlab/docmanager";
import type { NotebookPanel } from "@jupyterlab/notebook";
import type { Contents, Kernel } from "@jupyterlab/services";
import type { Message } from "@lumino/messaging";
import { Panel, Widget } from "@lumino/widgets";
import { CodeReader, type ReadCode } from "./model/code";
import type { LiveRun, LiveRuns } from "./model/live";
import { runRegistry } from "./model/registry";
import type { HistoryRun, Liveness } from "./model/store";
import type { StoreLocation, Stores } from "./model/stores";
import { artifactAction, downloadName } from "./views/artifacts";
import type { ArtifactHandler } from "./views/card";
import type { CellTarget, SourceRenderer } from "./views/code";
import { CompareView } from "./views/compare";
import { RunDetail } from "./views/detail";
import { h, setText } from "./views/dom";
import { PanelHeader, type Tab } from "./views/header";
import { HistoryTable } from "./views/history";
import { LiveView } from "./views/live";
import { storeMessage } from "./views/messages";
import { seriesRows } from "./views/series";
import { startCell, type RunPayload, type RunRecord } from "./protocol";

/** What the panel needs from JupyterLab. */
export interface ExperimentsPanelOptions {
  docManager: IDocumentManager;
  contents: Contents.IManager;
  stores: Stores;
  /** Opens the experiments dashboard (the History's Dashboard button). */
  openDashboard?: () => void;
  /** Shows source code read-only in JupyterLab's editor (plain text without it). */
  renderSource?: SourceRenderer;
  /** The open notebooks, to show a run's cell in its notebook. */
  notebooks?: () => NotebookPanel[];
  /** Brings a widget to the front. */
  activate?: (widget: Widget) => void;
}

/** A cell to show in its notebook: its execution count, the notebook's path or name, and its source when known. */
interface CellToShow {
  executionCount: number;
  notebook?: string;
  source?: string;
}

/** True when the notebook at `path` (relative to the server root) is the one `named` (a path, absolute or relative, or a file name). */
function sameNotebook(path: string, named: string): boolean {
  const n = named.replace(/\\/g, "/");
  return n === path || n.endsWith(`/${path}`) || (!n.includes("/") && PathExt.basename(path) === n);
}

const liveness: Liveness = { dead: (id) => runRegistry.isDead(id) };

/** What the kernel prints before the export's result. */
const EXPORT_MARK = "labnote-export-result ";

/** Runs labnote's exportNotebook() in `kernel` (cwd: the notebook's folder) and reads its result. */
async function exportThroughKernel(kernel: Kernel.IKernelConnection, notebook: string, root: string | undefined): Promise<{ snapshot: string; runs: string[] }> {
  const options = JSON.stringify(root ? { path: notebook, root } : { path: notebook });
  const code = [
    "// labnote: ignore",
    // One expression statement with one await (tslab compiles neither an await inside a block nor
    // nested awaits at top level), declaring nothing in the notebook.
    `console.log(${JSON.stringify(EXPORT_MARK)} + JSON.stringify(await import("labnote").then((labnote) => labnote.exportNotebook(${options}))));`,
  ].join("\n");
  const future = kernel.requestExecute({ code, silent: false, store_history: false, allow_stdin: false });
  let out = "";
  let err = "";
  future.onIOPub = (msg) => {
    if (msg.header.msg_type !== "stream") return;
    const content = msg.content as { name?: string; text?: string };
    if (content.name === "stderr") err += content.text ?? "";
    else out += content.text ?? "";
  };
  await future.done;
  const line = out.split("\n").find((l) => l.startsWith(EXPORT_MARK));
  if (!line) {
    const lines = err.trim().split("\n");
    const why = lines.find((l) => /^\s*(\w*Error|labnote)\b.*:/.test(l)) ?? lines.find((l) => /error/i.test(l));
    throw new Error(why?.trim() || "the kernel gave no answer (is labnote installed beside the notebook?)");
  }
  const result = JSON.parse(line.slice(EXPORT_MARK.length)) as { snapshot: string; runs: string[] };
  return result;
}

/** The Experiments side panel. */
export class ExperimentsPanel extends Panel {
  constructor(options: ExperimentsPanelOptions) {
    super();
    this._docManager = options.docManager;
    this._contents = options.contents;
    this._stores = options.stores;
    this.id = "jp-labnote-experiments";
    this.addClass("jp-labnote-panel");
    this.title.caption = "Experiments";

    const artifacts = this._artifactHandler();
    this._header = new PanelHeader();
    this._hint = h("div", { class: "jp-labnote-hint", hidden: "" });
    this._options = options;
    const onOrigin = (p: RunPayload) => this._showOrigin(p);
    this._live = new LiveView(artifacts, onOrigin);
    this._liveBox = new Widget({ node: h("div", { class: "jp-labnote-panel-body jp-labnote-live-box" }, [this._hint, this._live.node]) });
    this._table = new HistoryTable();
    this._table.dashboardRequested.connect(() => options.openDashboard?.());
    this._compare = new CompareView();
    this._detail = new RunDetail(artifacts, options.renderSource, onOrigin);
    this._notice = h("div", { class: "jp-labnote-notice", hidden: "" });
    this._historyBox = new Widget({ node: h("div", { class: "jp-labnote-panel-body jp-labnote-history-box" }, [this._notice, this._table.node, this._compare.node, this._detail.node]) });
    this.addWidget(this._header);
    this.addWidget(this._liveBox);
    this.addWidget(this._historyBox);

    this._header.tabRequested.connect((_, tab) => this._setTab(tab));
    this._header.exportRequested.connect(() => void this._exportNotebook());
    this._table.experimentChanged.connect((_, name) => {
      if (this._notebook) this._picked.set(this._notebook.context.path, name);
      void this._loadHistory();
    });
    this._table.refreshRequested.connect(() => {
      this._location().store?.forget();
      void this._loadHistory();
    });
    this._table.selectionChanged.connect((_, runs) => void this._showCompare(runs));
    this._table.opened.connect((_, run) => void this._openRun(run));
    this._table.originClicked.connect((_, run) => this._showRunOrigin(run.record));
    this._detail.code.openRequested.connect(() => void this._openAsNotebook());
    this._detail.code.cellClicked.connect((_, c: CellTarget) => void this._showCell(c));
    this._setTab("live");
    this._renderAll();
  }

  /** The notebook the panel follows, or null. */
  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  /** Follow `notebook` and its kernel's runs. */
  follow(notebook: NotebookPanel | null, live: LiveRuns | undefined): void {
    if (notebook === this._notebook && live === this._model) return;
    if (this._model) {
      this._model.changed.disconnect(this._onLiveChanged, this);
      this._model.kernelStatusChanged.disconnect(this._onKernelStatus, this);
    }
    this._notebook = notebook;
    this._model = live;
    this._live.picked = undefined;
    this._hasHistory = false;
    this._detail.show(undefined);
    this._compare.show([]);
    if (live) {
      live.changed.connect(this._onLiveChanged, this);
      live.kernelStatusChanged.connect(this._onKernelStatus, this);
    }
    this._renderAll();
    void this._loadHistory();
  }

  /** Re-read History (the store root setting changed). */
  refresh(): void {
    void this._loadHistory();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    if (this._frame) cancelAnimationFrame(this._frame);
    this._live.dispose();
    this._detail.dispose();
    this._compare.dispose();
    this._table.dispose();
    super.dispose();
  }

  /** Handle clicks on Live's run rows (the listener lives only while attached). */
  handleEvent(event: Event): void {
    if (event.type !== "click") return;
    const row = (event.target as HTMLElement).closest("li[data-id]") as HTMLElement | null;
    if (row && this._live.list.contains(row)) {
      this._live.picked = row.dataset.id;
      this._renderLive();
    }
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._liveBox.node.addEventListener("click", this);
  }

  protected override onBeforeDetach(msg: Message): void {
    this._liveBox.node.removeEventListener("click", this);
    super.onBeforeDetach(msg);
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._tab === "history") void this._loadHistory();
  }

  private _notebookDir(): string {
    return this._notebook ? PathExt.dirname(this._notebook.context.path) : "";
  }

  private _location(): StoreLocation {
    return this._stores.locate(this._notebookDir(), this._model?.root);
  }

  private _setTab(tab: Tab): void {
    this._tab = tab;
    this._header.select(tab);
    this._liveBox.setHidden(tab !== "live");
    this._historyBox.setHidden(tab !== "history");
    this.node.dataset.tab = tab;
    if (tab === "history") void this._loadHistory();
    this._renderHint();
  }

  private _onLiveChanged(_: LiveRuns, run: LiveRun | undefined): void {
    // A run that just ended is now complete on disk: re-read the history.
    if (!run || run.payload.status !== "running") this._historyStale = true;
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
    const m = this._model;
    this._header.setState(this._notebook?.context.path, m?.kernelStatus ?? "", m?.runningCount ?? 0, m?.runs.length ?? 0);
  }

  private _renderLive(): void {
    this._live.render(this._model?.runs ?? [], this._model?.runningCount ?? 0);
  }

  private _renderHint(): void {
    let hint = "";
    const nb = this._notebook;
    if (!nb) hint = "Open a notebook to see its experiments.";
    else if (this._tab === "live" && this._model && this._model.runs.length === 0) {
      const kernel = nb.sessionContext.session?.kernel?.name ?? nb.sessionContext.kernelPreference.name ?? "";
      if (kernel && !/tslab|jslab/.test(kernel) && !this._hasHistory) hint = `labnote records runs from the TypeScript kernel (tslab); this notebook uses "${kernel}".`;
      else if (this._hasHistory) hint = "No runs in this kernel session yet. Past runs are under History.";
      else hint = 'No labnote runs in this notebook yet. In a cell: import { experiment } from "labnote"; then run an experiment — its runs appear here live.';
    }
    this._hint.hidden = !hint;
    setText(this._hint, hint);
    this.node.dataset.labnote = this._model?.seen || this._hasHistory ? "yes" : "no";
  }

  /** The experiment History shows: the one picked for this notebook, else the notebook's own, else the newest. */
  private async _experimentFor(experiments: string[], loc: StoreLocation): Promise<string> {
    const path = this._notebook?.context.path ?? "";
    const picked = this._picked.get(path);
    if (picked && experiments.includes(picked)) return picked;
    const runs = this._model?.runs ?? [];
    const live = runs.find((r) => r.payload.status === "running") ?? runs[0];
    if (live && experiments.includes(live.payload.experiment)) return live.payload.experiment;
    const own = loc.store ? await loc.store.experimentOf(path, experiments) : undefined;
    return own ?? experiments[0];
  }

  private async _loadHistory(): Promise<void> {
    const nb = this._notebook;
    if (!nb) {
      this._table.setExperiments([], undefined);
      this._table.setRuns([], [], { text: "Open a notebook to see its experiments." });
      return;
    }
    this._historyStale = false;
    const token = ++this._historyToken;
    const loc = this._location();
    const store = loc.store;
    const listed = store ? await store.experiments() : undefined;
    if (token !== this._historyToken) return;
    if (!store || !listed || !listed.ok || listed.experiments.length === 0) {
      this._hasHistory = false;
      this._renderHint();
      this._table.setExperiments([], undefined);
      this._table.setRuns([], [], storeMessage(loc, listed && !listed.ok ? listed.failure : undefined));
      return;
    }
    this._hasHistory = true;
    this._renderHint();
    const name = await this._experimentFor(listed.experiments, loc);
    if (token !== this._historyToken) return;
    this._table.setExperiments(listed.experiments, name);
    // First what the experiment's index says (10,000 runs in a moment), then the same checked
    // against the folder's listing (seconds for a very large experiment).
    const quick = await store.runs(name, liveness, Date.now(), { quick: true });
    if (token !== this._historyToken) return;
    if (quick.ok && quick.runs.length) this._table.setRuns(quick.runs, quick.unreadable);
    const runs = await store.runs(name, liveness);
    if (token !== this._historyToken) return;
    if (!runs.ok) this._table.setRuns([], [], storeMessage({ ...loc, root: `${loc.root}/${name}` }, runs.failure));
    else this._table.setRuns(runs.runs, runs.unreadable, runs.runs.length ? undefined : { text: `No readable runs of ${name} on disk.` });
  }

  /**
   * Export notebook: save the notebook, then have its kernel store the saved file as a snapshot
   * and link this session's runs to it (the kernel knows them, and the store's hidden folders
   * are out of the contents API's reach). The request's first line keeps it out of the session log.
   */
  private async _exportNotebook(): Promise<void> {
    const nb = this._notebook;
    const kernel = nb?.sessionContext.session?.kernel;
    if (!nb || !kernel) {
      this._header.setExportState("Start the notebook's kernel first: the kernel stores the snapshot.", "error");
      return;
    }
    this._header.setExportState("Saving the notebook…", "busy");
    try {
      await nb.context.save();
      this._header.setExportState("Storing the snapshot (waiting for the kernel)…", "busy");
      const result = await exportThroughKernel(kernel, PathExt.basename(nb.context.path), this._model?.root);
      const name = PathExt.basename(result.snapshot);
      this._header.setExportState(`Snapshot ${name.slice(0, 12)}… stored, ${result.runs.length} run${result.runs.length === 1 ? "" : "s"} linked`, "done");
      this._historyStale = true;
    } catch (e) {
      this._header.setExportState(`Export failed: ${e instanceof Error ? e.message : String(e)}`, "error");
    }
  }

  private async _showCompare(runs: HistoryRun[]): Promise<void> {
    const store = this._location().store;
    if (!store || runs.length < 2) {
      this._compare.show([]);
      return;
    }
    const token = ++this._compareToken;
    // Oldest first: the code diff reads from the earlier run to the later.
    const shown = runs.slice(0, 10).sort((a, b) => a.record.startTime - b.record.startTime || a.record.number - b.record.number);
    const reader = this._codeReader(store.root);
    const [series, codes] = await Promise.all([
      Promise.all(shown.map(async (run) => ({ run, metrics: [...(await store.series(run))].map(([name, s]) => ({ name, rows: seriesRows(run.id, s) })) }))),
      Promise.all(shown.map((run) => reader.code(run.record).catch(() => undefined))),
    ]);
    if (token === this._compareToken) this._compare.show(series, codes);
  }

  private async _openRun(run: HistoryRun): Promise<void> {
    const store = this._location().store;
    if (!store) return;
    const token = ++this._detailToken;
    this._shownRun = run;
    const payload = await store.payload(run, this._notebookDir());
    if (token !== this._detailToken) return;
    this._detail.show(payload);
    this._detail.showCode(undefined, true);
    let code: ReadCode | undefined;
    try {
      code = await this._codeReader(store.root).code(run.record);
    } catch {
      code = undefined;
    }
    if (token === this._detailToken) this._detail.showCode(code);
  }

  private _codeReader(root: string): CodeReader {
    if (this._code?.root !== root) this._code = new CodeReader(this._contents, root);
    return this._code;
  }

  /** Say something for a few seconds above History (what a click could not do). */
  private _notify(text: string): void {
    setText(this._notice, text);
    this._notice.hidden = false;
    clearTimeout(this._noticeTimer);
    this._noticeTimer = setTimeout(() => (this._notice.hidden = true), 6000);
  }

  /**
   * Open as notebook: build the notebook that reproduces the shown run (the export's, from the
   * store alone), write it beside the current notebook (never over a file that is not an
   * earlier reproduction of the same run) and open it.
   */
  private async _openAsNotebook(): Promise<void> {
    const run = this._shownRun;
    const store = this._location().store;
    const view = this._detail.code;
    if (!run || !store) return;
    view.setOpenState("Writing the reproduction notebook…", "busy");
    try {
      const others: RunRecord[] = [];
      if (run.record.lineage) {
        const listed = await store.experiments();
        for (const e of listed.ok ? listed.experiments : []) {
          const runs = await store.runs(e, liveness);
          if (runs.ok) others.push(...runs.runs.map((r) => r.record));
        }
      }
      const notebook = await this._codeReader(store.root).reproduction(run.record, others);
      const dir = this._notebookDir();
      const base = `${run.record.experiment}-${run.record.number}.reproduce`;
      let path = "";
      for (let i = 1; i < 100 && !path; i++) {
        const candidate = PathExt.join(dir, `${base}${i === 1 ? "" : `-${i}`}.ipynb`);
        let existing: unknown;
        try {
          existing = (await this._contents.get(candidate, { content: true, type: "notebook" })).content;
        } catch {
          path = candidate; // not there yet
          break;
        }
        const reproduces = (existing as { metadata?: { labnote?: { reproduces?: unknown } } } | null)?.metadata?.labnote?.reproduces;
        if (reproduces === run.record.id) path = candidate;
      }
      if (!path) throw new Error(`every name ${base}….ipynb in ${dir || "the root"} is taken`);
      await this._contents.save(path, { type: "notebook", format: "json", content: notebook });
      this._docManager.openOrReveal(path);
      view.setOpenState(`Wrote ${PathExt.basename(path)} and opened it.`, "done");
    } catch (e) {
      view.setOpenState(`Open as notebook failed: ${e instanceof Error ? e.message : String(e)}`, "error");
    }
  }

  /** A run's "from" clicked in History: the cell that started it. */
  private _showRunOrigin(record: RunRecord): void {
    const cell = startCell(record);
    if (!cell) {
      this._notify(`${record.id} was not started from a notebook cell.`);
      return;
    }
    void this._showCell({ executionCount: cell.executionCount, notebook: record.notebook ?? cell.notebook });
  }

  /** A card's "from" clicked: `nb.ipynb [7]`; the shown run's record says more when it is that run. */
  private _showOrigin(p: RunPayload): void {
    const shown = this._shownRun;
    if (shown && shown.id === p.id) return this._showRunOrigin(shown.record);
    const m = /^(.*?)\s*\[(\d+)\]$/.exec(p.origin ?? "");
    if (!m) {
      this._notify(`${p.id} was not started from a notebook cell.`);
      return;
    }
    void this._showCell({ executionCount: Number(m[2]), notebook: m[1] === "cell" ? undefined : m[1] });
  }

  /** Scroll the notebook to the cell with that execution count (or, once run again, that source), when it is open. */
  private async _showCell(target: CellToShow): Promise<void> {
    const open = this._options.notebooks?.() ?? [];
    const current = this._notebook;
    const named = target.notebook;
    const nb = (named === undefined ? current : [current, ...open].find((n) => n && sameNotebook(n.context.path, named))) ?? undefined;
    const label = `[${target.executionCount}]`;
    if (!nb) {
      this._notify(`Open ${named ? PathExt.basename(named) : "its notebook"} to see cell ${label}.`);
      return;
    }
    const cells = nb.content.widgets;
    let i = cells.findIndex((c) => c.model.type === "code" && (c.model as unknown as { executionCount: number | null }).executionCount === target.executionCount);
    if (i < 0 && target.source !== undefined) i = cells.findIndex((c) => c.model.sharedModel.getSource() === target.source);
    if (i < 0) {
      this._notify(`Cell ${label} is no longer in ${PathExt.basename(nb.context.path)} (run again or edited since).`);
      return;
    }
    this._options.activate?.(nb);
    nb.content.activeCellIndex = i;
    await nb.content.scrollToItem(i, "center");
    const node = cells[i].node;
    node.classList.add("jp-labnote-flash");
    setTimeout(() => node.classList.remove("jp-labnote-flash"), 1500);
  }

  private _artifactHandler(): ArtifactHandler {
    return {
      link: (anchor, artifact) => {
        const path = PathExt.join(this._notebookDir(), artifact.path);
        anchor.title = path;
        if (artifactAction(artifact) === "download") {
          // JupyterLab has no viewer for it (it would open binary data in the text editor).
          anchor.dataset.action = "download";
          anchor.title = `Download ${path} (JupyterLab has no viewer for this file)`;
          anchor.setAttribute("download", downloadName(artifact));
          void this._contents.getDownloadUrl(path).then(
            (url) => (anchor.href = url),
            () => anchor.removeAttribute("href"),
          );
          return;
        }
        anchor.dataset.action = "open";
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

  private _options: ExperimentsPanelOptions;
  private _code: CodeReader | undefined;
  private _shownRun: HistoryRun | undefined;
  private _detailToken = 0;
  private _notice: HTMLElement;
  private _noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private _docManager: IDocumentManager;
  private _contents: Contents.IManager;
  private _stores: Stores;
  private _notebook: NotebookPanel | null = null;
  private _model: LiveRuns | undefined;
  private _tab: Tab = "live";
  private _picked = new Map<string, string>();
  private _hasHistory = false;
  private _historyStale = false;
  private _historyToken = 0;
  private _compareToken = 0;
  private _frame = 0;
  private _header: PanelHeader;
  private _hint: HTMLElement;
  private _live: LiveView;
  private _liveBox: Widget;
  private _table: HistoryTable;
  private _compare: CompareView;
  private _detail: RunDetail;
  private _historyBox: Widget;
}
