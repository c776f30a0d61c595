/**
 * The History view: an experiment's runs read from disk, as a table sortable by any column and
 * filterable, with status, duration, config columns and metric summaries. Ticking two or more
 * runs overlays their metrics (one chart per metric) and lists where their configs differ;
 * clicking a run shows it in full.
 */
import { Signal, type ISignal } from "@lumino/signaling";
import { MetricChart, seriesRows } from "./chart";
import { PALETTE } from "./theme";
import { formatConfigValue, formatDuration, formatNumber, formatTime, h, setText } from "./dom";
import type { HistoryRun } from "./store";
import { recordTiming } from "./timing";

type Kind = "num" | "text";

interface Column {
  id: string;
  label: string;
  kind: Kind;
  title?: string;
  /** The sort key of a run. */
  value(r: HistoryRun): number | string | undefined;
  /** The text shown. */
  text(r: HistoryRun): string;
  cls?: string;
}

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

const STATUS_ORDER: Record<string, number> = { running: 0, died: 1, failed: 2, interrupted: 3, completed: 4 };

function baseColumns(): Column[] {
  return [
    { id: "number", label: "#", kind: "num", value: (r) => r.number, text: (r) => String(r.number), cls: "jp-labnote-num" },
    { id: "name", label: "name", kind: "text", value: (r) => r.name, text: (r) => r.name },
    { id: "status", label: "status", kind: "text", value: (r) => STATUS_ORDER[r.status] ?? 9, text: (r) => r.status },
    { id: "start", label: "started", kind: "num", value: (r) => r.startTime, text: (r) => formatTime(r.startTime) },
    { id: "duration", label: "duration", kind: "num", value: (r) => r.duration, text: (r) => formatDuration(r.duration), cls: "jp-labnote-num" },
  ];
}

function configValue(json: string | undefined): number | string | undefined {
  if (json === undefined) return undefined;
  try {
    const v = JSON.parse(json);
    return typeof v === "number" ? v : typeof v === "string" ? v : json;
  } catch {
    return json;
  }
}

/** Config keys worth a column: those that differ between runs, else the modified ones, else all (at most 12). */
export function configKeys(runs: HistoryRun[]): string[] {
  const values = new Map<string, Set<string>>();
  for (const r of runs) for (const [k, v] of r.config) (values.get(k) ?? values.set(k, new Set()).get(k)!).add(v);
  for (const [k, set] of values) if (runs.some((r) => !r.config.has(k))) set.add("\u0000missing");
  const varying = [...values].filter(([, s]) => s.size > 1).map(([k]) => k);
  if (varying.length) return varying.slice(0, 12);
  const modified = [...new Set(runs.flatMap((r) => r.modified))];
  if (modified.length) return modified.slice(0, 12);
  return [...values.keys()].slice(0, 12);
}

/** The History table and compare view. */
export class HistoryView {
  readonly node: HTMLElement;

  constructor() {
    this._experiment = h("select", { class: "jp-labnote-select", title: "Experiment" });
    this._filter = h("input", { class: "jp-labnote-filter", type: "search", placeholder: "Filter runs (e.g. failed lr 0.1)", spellcheck: "false" });
    this._refresh = h("button", { class: "jp-labnote-button", text: "Refresh", title: "Read the runs from disk again" });
    this._count = h("span", { class: "jp-labnote-history-count" });
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
    this._empty = h("div", { class: "jp-labnote-hint", hidden: "" });
    this._compare = h("div", { class: "jp-labnote-compare", hidden: "" });
    this.node = h("div", { class: "jp-labnote-history" }, [
      h("div", { class: "jp-labnote-toolbar" }, [this._experiment, this._filter, this._refresh]),
      this._count,
      this._empty,
      this._scroll,
      this._compare,
    ]);
    this._experiment.addEventListener("change", () => this._experimentChanged.emit(this._experiment.value));
    this._filter.addEventListener("input", () => {
      this._scroll.scrollTop = 0;
      this._render();
    });
    this._refresh.addEventListener("click", () => this._refreshRequested.emit());
    this._thead.addEventListener("click", (e) => this._onHeaderClick(e));
    this._tbody.addEventListener("click", (e) => this._onBodyClick(e));
  }

  /** The user picked another experiment. */
  get experimentChanged(): ISignal<this, string> {
    return this._experimentChanged;
  }

  /** The user asked to read the disk again. */
  get refreshRequested(): ISignal<this, void> {
    return this._refreshRequested;
  }

  /** The runs ticked for comparison changed (ids). */
  get selectionChanged(): ISignal<this, HistoryRun[]> {
    return this._selectionChanged;
  }

  /** A run was clicked to be shown in full. */
  get opened(): ISignal<this, HistoryRun> {
    return this._opened;
  }

  get selected(): HistoryRun[] {
    return this._runs.filter((r) => this._ticked.has(r.id));
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

  /** Show `runs`; `message` replaces the table when there is nothing to show. */
  setRuns(runs: HistoryRun[], message?: string): void {
    this._runs = runs;
    this._hay = new WeakMap();
    const ids = new Set(runs.map((r) => r.id));
    for (const id of [...this._ticked]) if (!ids.has(id)) this._ticked.delete(id);
    const metricNames = [...new Set(runs.flatMap((r) => [...r.metrics.keys()]))];
    const config = configKeys(runs);
    this._columns = [
      ...baseColumns(),
      ...config.map<Column>((k) => ({
        id: `config:${k}`,
        label: k,
        title: `config ${k}`,
        kind: "text",
        value: (r) => configValue(r.config.get(k)),
        text: (r) => (r.config.has(k) ? formatConfigValue(r.config.get(k) as string) : ""),
        cls: "jp-labnote-config-col",
      })),
      ...metricNames.map<Column>((m) => ({
        id: `metric:${m}`,
        label: m,
        title: `metric ${m}: last value (min … max in the tooltip)`,
        kind: "num",
        value: (r) => r.metrics.get(m)?.last,
        text: (r) => {
          const s = r.metrics.get(m);
          return s ? formatNumber(s.last) : "";
        },
        cls: "jp-labnote-num jp-labnote-metric-col",
      })),
    ];
    if (!this._columns.some((c) => c.id === this._sort.id)) this._sort = { id: "number", desc: true };
    this._empty.hidden = !message;
    setText(this._empty, message ?? "");
    this._render();
  }

  /** Put overlaid charts and a config diff in the compare area (the panel fetches the data). */
  setComparison(series: { run: HistoryRun; metrics: { name: string; rows: ReturnType<typeof seriesRows> }[] }[]): void {
    this._disposeCharts();
    if (series.length < 2) {
      this._compare.hidden = true;
      this._compare.textContent = "";
      return;
    }
    this._compare.hidden = false;
    const label = (r: HistoryRun) => `#${r.number} ${r.name}`;
    const names = [...new Set(series.flatMap((s) => s.metrics.map((m) => m.name)))];
    const charts = h("div", { class: "jp-labnote-compare-charts" });
    const plots = names.map((name) => {
      const plot = h("div", { class: "jp-labnote-chart" });
      charts.append(h("div", { class: "jp-labnote-metric" }, [h("div", { class: "jp-labnote-metric-head" }, [h("span", { class: "jp-labnote-metric-name", text: name, title: name })]), plot]));
      return plot;
    });
    const labels = series.map((s) => label(s.run));
    const legend = h(
      "div",
      { class: "jp-labnote-legend" },
      labels.map((l, i) => h("span", { class: "jp-labnote-legend-item", title: l }, [h("span", { class: "jp-labnote-swatch", style: `background:${PALETTE[i % PALETTE.length]}` }), l])),
    );
    this._compare.replaceChildren(
      h("div", { class: "jp-labnote-section-title", text: `Comparing ${series.length} runs` }),
      legend,
      names.length ? charts : h("div", { class: "jp-labnote-hint", text: "These runs logged no metrics." }),
      this._configDiff(series.map((s) => s.run)),
    );
    // Charts are made once their hosts are in the page, so they start at the right width.
    names.forEach((name, i) => {
      const chart = new MetricChart(plots[i], { height: 130, runs: labels, timingName: "compare-chart-redraw" });
      chart.setData(series.flatMap((s) => (s.metrics.find((m) => m.name === name)?.rows ?? []).map((row) => ({ ...row, run: label(s.run) }))));
      this._charts.push(chart);
    });
  }

  dispose(): void {
    if (this._frame) cancelAnimationFrame(this._frame);
    this._disposeCharts();
    Signal.clearData(this);
  }

  private _configDiff(runs: HistoryRun[]): HTMLElement {
    const keys = [...new Set(runs.flatMap((r) => [...r.config.keys()]))].sort();
    const differing = keys.filter((k) => new Set(runs.map((r) => r.config.get(k) ?? "\u0000")).size > 1);
    const same = keys.length - differing.length;
    const title = h("div", { class: "jp-labnote-section-title", text: `Config diff · ${differing.length} differ · ${same} identical` });
    if (!differing.length) return h("div", {}, [title]);
    const head = h("tr", {}, [h("th", { text: "key" }), ...runs.map((r) => h("th", { text: `#${r.number}`, title: r.name }))]);
    const rows = differing.map((k) =>
      h("tr", {}, [
        h("td", { class: "jp-labnote-config-key", text: k }),
        ...runs.map((r) => {
          const v = r.config.get(k);
          return h("td", { class: v === undefined ? "jp-labnote-missing" : "", text: v === undefined ? "—" : formatConfigValue(v) });
        }),
      ]),
    );
    return h("div", {}, [title, h("table", { class: "jp-labnote-table jp-labnote-diff" }, [h("thead", {}, [head]), h("tbody", {}, rows)])]);
  }

  private _disposeCharts(): void {
    for (const c of this._charts) c.dispose();
    this._charts = [];
  }

  private _visible(): HistoryRun[] {
    const tokens = this._filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let runs = this._runs;
    if (tokens.length) {
      const cols = this._columns;
      runs = runs.filter((r) => {
        // What a run is searched by is made once per load, not on every keystroke.
        let hay = this._hay.get(r);
        if (hay === undefined) {
          hay = (cols.map((c) => c.text(r)).join(" ") + " " + r.tags.join(" ") + " " + r.id).toLowerCase();
          this._hay.set(r, hay);
        }
        return tokens.every((t) => hay!.includes(t));
      });
    }
    const col = this._columns.find((c) => c.id === this._sort.id);
    if (col) {
      const dir = this._sort.desc ? -1 : 1;
      const keyed = runs.map((r) => ({ r, k: col.value(r) }));
      keyed.sort((a, b) => {
        if (a.k === undefined || (typeof a.k === "number" && Number.isNaN(a.k))) return 1;
        if (b.k === undefined || (typeof b.k === "number" && Number.isNaN(b.k))) return -1;
        if (typeof a.k === "number" && typeof b.k === "number") return (a.k - b.k) * dir;
        return String(a.k).localeCompare(String(b.k), undefined, { numeric: true }) * dir;
      });
      runs = keyed.map((x) => x.r);
    }
    return runs;
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
    const visible = this._visible();
    this._shown = visible;
    this._table.dataset.count = String(visible.length);
    this._renderWindow();
    const shown = visible.length === this._runs.length ? `${this._runs.length} runs` : `${visible.length} of ${this._runs.length} runs`;
    const ticked = this._ticked.size;
    setText(this._count, ticked ? `${shown} · ${ticked} ticked${ticked < 2 ? " (tick two or more to compare)" : ""}` : `${shown} · tick two or more to compare`);
    this._table.hidden = this._runs.length === 0;
    recordTiming("history-render", performance.now() - t0);
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
        if (c.id === "status") td.className = `jp-labnote-status-text jp-labnote-status-${r.status}`;
        else if (c.cls) td.className = c.cls;
        if (c.id.startsWith("metric:")) {
          const s = r.metrics.get(c.id.slice(7));
          if (s) td.title = `last ${formatNumber(s.last)} · min ${formatNumber(s.min)} · max ${formatNumber(s.max)} · ${s.count} points`;
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
      const visible = this._visible();
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
  private _hay = new WeakMap<HistoryRun, string>();
  private _frame = 0;
  private _thead: HTMLElement;
  private _tbody: HTMLElement;
  private _empty: HTMLElement;
  private _compare: HTMLElement;
  private _charts: MetricChart[] = [];
  private _runs: HistoryRun[] = [];
  private _columns: Column[] = baseColumns();
  private _sort: { id: string; desc: boolean } = { id: "number", desc: true };
  private _ticked = new Set<string>();
  private _openedId: string | undefined;
  private _experimentChanged = new Signal<this, string>(this);
  private _refreshRequested = new Signal<this, void>(this);
  private _selectionChanged = new Signal<this, HistoryRun[]>(this);
  private _opened = new Signal<this, HistoryRun>(this);
}
