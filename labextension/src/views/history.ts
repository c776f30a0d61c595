/**
 * The History table: an experiment's runs read from disk, sortable by any column and
 * filterable, with status, duration, config columns and metric summaries; run folders whose
 * run.json cannot be read are counted above it, with each reason. Ticking runs asks for a
 * comparison, clicking one asks to show it in full (the panel composes both views).
 */
import { Signal, type ISignal } from "@lumino/signaling";
import type { HistoryRun, UnreadableRun } from "../model/store";
import { recordTiming } from "../timing";
import { h, setText } from "./dom";
import { queryProblems } from "../protocol";
import { baseColumns, columnsFor, metricTitle, parseFilter, visibleRuns, type Column } from "./columns";

/** Every history row is this tall (CSS keeps it so), which lets the table show only the rows in view. */
const ROW_HEIGHT = 24;
const OVERSCAN = 8;

function spacer(height: number, span: number): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.className = "jp-labnote-spacer";
  tr.style.height = `${height}px`;
  const td = document.createElement("td");
  td.colSpan = span;
  tr.append(td);
  return tr;
}

/** The History table. */
export class HistoryTable {
  readonly node: HTMLElement;

  constructor() {
    this._experiment = h("select", { class: "jp-labnote-select", title: "Experiment" });
    this._filter = h("input", { class: "jp-labnote-filter", type: "search", placeholder: "Filter: lr<0.01 status=completed tag:v1 name~adam", title: "key OP value with = != < <= > >= ~ (config keys, metrics like loss or loss.min, status, name, tag); plain words match names, tags and the status", spellcheck: "false" });
    this._refresh = h("button", { class: "jp-labnote-button", text: "Refresh", title: "Read the runs from disk again" });
    this._dashboard = h("button", { class: "jp-labnote-button jp-labnote-open-dashboard", text: "Dashboard", title: "Open the experiments dashboard: every run in a wide table, in the main area" });
    this._count = h("span", { class: "jp-labnote-history-count" });
    this._unreadableCount = h("summary", { class: "jp-labnote-unreadable-count" });
    this._unreadableList = h("ul", { class: "jp-labnote-unreadable-list" });
    this._unreadable = h("details", { class: "jp-labnote-unreadable", hidden: "" }, [this._unreadableCount, this._unreadableList]);
    this._thead = h("thead");
    this._tbody = h("tbody");
    this._table = h("table", { class: "jp-labnote-table jp-labnote-history-table" }, [this._thead, this._tbody]);
    this._scroll = h("div", { class: "jp-labnote-history-scroll" }, [this._table]);
    // Only the rows in view are in the page: a thousand runs sort and filter in a few ms.
    this._scroll.addEventListener("scroll", () => {
      if (this._frame) return;
      this._frame = requestAnimationFrame(() => {
        this._frame = 0;
        this._renderWindow();
      });
    });
    this._message = h("div", { class: "jp-labnote-hint jp-labnote-history-message", hidden: "" });
    this._filterNote = h("pre", { class: "jp-labnote-filter-note", hidden: "" });
    this.node = h("div", { class: "jp-labnote-history" }, [
      h("div", { class: "jp-labnote-toolbar" }, [this._experiment, this._filter, this._refresh, this._dashboard]),
      this._filterNote,
      this._count,
      this._unreadable,
      this._message,
      this._scroll,
    ]);
    this._experiment.addEventListener("change", () => this._experimentChanged.emit(this._experiment.value));
    this._filter.addEventListener("input", () => {
      this._scroll.scrollTop = 0;
      this._render();
    });
    this._refresh.addEventListener("click", () => this._refreshRequested.emit());
    this._dashboard.addEventListener("click", () => this._dashboardRequested.emit());
    this._thead.addEventListener("click", (e) => this._onHeaderClick(e));
    this._tbody.addEventListener("click", (e) => this._onBodyClick(e));
  }

  /** The user picked another experiment. */
  get experimentChanged(): ISignal<this, string> {
    return this._experimentChanged;
  }

  /** The user asked for the dashboard. */
  get dashboardRequested(): ISignal<this, void> {
    return this._dashboardRequested;
  }

  /** The user asked to read the disk again. */
  get refreshRequested(): ISignal<this, void> {
    return this._refreshRequested;
  }

  /** The runs ticked for comparison changed. */
  get selectionChanged(): ISignal<this, HistoryRun[]> {
    return this._selectionChanged;
  }

  /** A run was clicked to be shown in full. */
  get opened(): ISignal<this, HistoryRun> {
    return this._opened;
  }

  /** A run's "from" (notebook [cell]) was clicked: show that cell in its notebook. */
  get originClicked(): ISignal<this, HistoryRun> {
    return this._originClicked;
  }

  /** The ticked runs. */
  get selected(): HistoryRun[] {
    return this._runs.filter((r) => this._ticked.has(r.id));
  }

  /** The experiment shown in the menu. */
  get experiment(): string {
    return this._experiment.value;
  }

  /** The experiments to offer, and the one shown. */
  setExperiments(names: string[], current: string | undefined): void {
    const key = JSON.stringify([names, current]);
    if (key === this._experimentsKey) return;
    this._experimentsKey = key;
    this._experiment.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
    if (current !== undefined) this._experiment.value = current;
    this._experiment.hidden = names.length === 0;
  }

  /**
   * Show `runs` and the run folders that could not be read; `message` says why there is nothing
   * to show (`error`: a failure a person must act on, styled as such).
   */
  setRuns(runs: HistoryRun[], unreadable: UnreadableRun[] = [], message?: { text: string; error?: boolean }): void {
    this._runs = runs;
    const ids = new Set(runs.map((r) => r.id));
    for (const id of [...this._ticked]) if (!ids.has(id)) this._ticked.delete(id);
    this._columns = columnsFor(runs);
    if (!this._columns.some((c) => c.id === this._sort.id)) this._sort = { id: "number", desc: true };
    this._message.hidden = !message;
    this._message.classList.toggle("jp-labnote-error", !!message?.error);
    setText(this._message, message?.text ?? "");
    this._setUnreadable(unreadable);
    this._render();
  }

  /** Stop pending frames and listeners. */
  dispose(): void {
    if (this._frame) cancelAnimationFrame(this._frame);
    Signal.clearData(this);
  }

  private _setUnreadable(list: UnreadableRun[]): void {
    const key = JSON.stringify(list);
    if (key === this._unreadableKey) return;
    this._unreadableKey = key;
    this._unreadable.hidden = list.length === 0;
    setText(this._unreadableCount, `${list.length} unreadable run${list.length === 1 ? "" : "s"}`);
    this._unreadableCount.title = list.map((u) => `#${u.number}: ${u.reason}`).join("\n");
    this._unreadableList.replaceChildren(
      ...list.map((u) => h("li", { title: u.dir }, [h("span", { class: "jp-labnote-unreadable-number", text: `#${u.number}` }), " ", h("span", { class: "jp-labnote-unreadable-reason", text: u.reason })])),
    );
  }

  private _render(): void {
    const t0 = performance.now();
    const cols = this._columns;
    const allTicked = this._runs.length > 0 && this._runs.every((r) => this._ticked.has(r.id));
    const headRow = h("tr", {}, [
      h("th", { class: "jp-labnote-tick" }, [h("input", { type: "checkbox", "data-all": "1", title: "Tick all shown runs", ...(allTicked ? { checked: "" } : {}) })]),
      ...cols.map((c) => {
        const arrow = this._sort.id === c.id ? (this._sort.desc ? " ▾" : " ▴") : "";
        return h("th", { class: `${c.cls ?? ""} jp-labnote-sortable`, "data-col": c.id, title: c.title ?? `Sort by ${c.label}`, text: c.label + arrow });
      }),
    ]);
    this._thead.replaceChildren(headRow);
    const filter = parseFilter(this._filter.value);
    this._showFilterNote(filter);
    const visible = visibleRuns(this._runs, cols, filter.query, this._sort);
    this._shown = visible;
    this._table.dataset.count = String(visible.length);
    this._renderWindow();
    const total = `${this._runs.length} run${this._runs.length === 1 ? "" : "s"}`;
    const shown = visible.length === this._runs.length ? total : `${visible.length} of ${total}`;
    const ticked = this._ticked.size;
    setText(this._count, ticked ? `${shown} · ${ticked} ticked${ticked < 2 ? " (tick two or more to compare)" : ""}` : `${shown} · tick two or more to compare`);
    this._count.hidden = this._runs.length === 0;
    this._scroll.hidden = this._runs.length === 0;
    recordTiming("history-render", performance.now() - t0);
  }

  /** Under the filter box: where the filter is wrong (it then filters nothing), or keys no run has. */
  private _showFilterNote(filter: ReturnType<typeof parseFilter>): void {
    const problems = filter.query ? queryProblems(filter.query, this._runs.map((r) => r.record)) : [];
    const text = filter.error ? `${filter.error.reason} (column ${filter.error.column})\n${this._filter.value}\n${" ".repeat(filter.error.column - 1)}^` : problems.join("\n");
    this._filterNote.hidden = text === "";
    this._filterNote.classList.toggle("jp-labnote-error", filter.error !== undefined);
    setText(this._filterNote, text);
  }

  /** Put the rows in view (plus a margin) between two spacers. */
  private _renderWindow(): void {
    const t0 = performance.now();
    const cols = this._columns;
    const runs = this._shown;
    const view = this._scroll.clientHeight || 480;
    const top = Math.max(0, this._scroll.scrollTop - ROW_HEIGHT * 2);
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(runs.length, first + Math.ceil(view / ROW_HEIGHT) + 2 * OVERSCAN + 2);
    const frag = document.createDocumentFragment();
    frag.append(spacer(first * ROW_HEIGHT, cols.length + 1));
    for (let i = first; i < last; i++) {
      const r = runs[i];
      const tr = document.createElement("tr");
      tr.dataset.id = r.id;
      if (this._ticked.has(r.id)) tr.className = "jp-labnote-ticked";
      if (r.id === this._openedId) tr.classList.add("jp-labnote-current");
      const tick = document.createElement("td");
      tick.className = "jp-labnote-tick";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = this._ticked.has(r.id);
      tick.append(box);
      tr.append(tick);
      for (const c of cols) {
        const td = document.createElement("td");
        td.textContent = c.text(r);
        if (c.id === "status") td.className = `jp-labnote-status-text jp-labnote-status-${r.record.status}`;
        else if (c.cls) td.className = c.cls;
        if (c.id.startsWith("metric:")) {
          const s = r.record.metrics[c.id.slice(7)];
          if (s) td.title = metricTitle(s);
        }
        tr.append(td);
      }
      frag.append(tr);
    }
    frag.append(spacer((runs.length - last) * ROW_HEIGHT, cols.length + 1));
    this._tbody.replaceChildren(frag);
    recordTiming("history-window", performance.now() - t0);
  }

  private _onHeaderClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    if (target instanceof HTMLInputElement && target.dataset.all) {
      const visible = this._shown;
      if (target.checked) for (const r of visible) this._ticked.add(r.id);
      else this._ticked.clear();
      this._render();
      this._selectionChanged.emit(this.selected);
      return;
    }
    const th = target.closest("th[data-col]") as HTMLElement | null;
    if (!th) return;
    const id = th.dataset.col as string;
    if (this._sort.id === id) this._sort = { id, desc: !this._sort.desc };
    else this._sort = { id, desc: this._columns.find((c) => c.id === id)?.kind === "num" };
    this._render();
  }

  private _onBodyClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const tr = target.closest("tr[data-id]") as HTMLElement | null;
    if (!tr) return;
    const id = tr.dataset.id as string;
    const run = this._runs.find((r) => r.id === id);
    if (!run) return;
    if (target instanceof HTMLInputElement) {
      if (target.checked) this._ticked.add(id);
      else this._ticked.delete(id);
      tr.classList.toggle("jp-labnote-ticked", target.checked);
      this._render();
      this._selectionChanged.emit(this.selected);
      return;
    }
    if (target.closest("td.jp-labnote-from-col") && target.textContent) this._originClicked.emit(run);
    this._openedId = id;
    for (const row of this._tbody.querySelectorAll("tr.jp-labnote-current")) row.classList.remove("jp-labnote-current");
    tr.classList.add("jp-labnote-current");
    this._opened.emit(run);
  }

  private _experiment: HTMLSelectElement;
  private _experimentsKey = "";
  private _filter: HTMLInputElement;
  private _refresh: HTMLButtonElement;
  private _count: HTMLElement;
  private _table: HTMLTableElement;
  private _scroll: HTMLElement;
  private _shown: HistoryRun[] = [];
  private _filterNote: HTMLElement;
  private _frame = 0;
  private _thead: HTMLElement;
  private _tbody: HTMLElement;
  private _message: HTMLElement;
  private _unreadable: HTMLDetailsElement;
  private _unreadableCount: HTMLElement;
  private _unreadableList: HTMLElement;
  private _unreadableKey = "";
  private _runs: HistoryRun[] = [];
  private _columns: Column[] = baseColumns();
  private _sort: { id: string; desc: boolean } = { id: "number", desc: true };
  private _ticked = new Set<string>();
  private _openedId: string | undefined;
  private _experimentChanged = new Signal<this, string>(this);
  private _refreshRequested = new Signal<this, void>(this);
  private readonly _dashboardRequested = new Signal<this, void>(this);
  private readonly _dashboard: HTMLButtonElement;
  private _selectionChanged = new Signal<this, HistoryRun[]>(this);
  private _opened = new Signal<this, HistoryRun>(this);
  private _originClicked = new Signal<this, HistoryRun>(this);
}
