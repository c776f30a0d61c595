/**
 * The sweep card in a cell output: heading, progress bar and time left, the best trial, the
 * running one, parallel coordinates, and the best trials in a table sortable by any column
 * (by the metric, best first, until a header is clicked). Patched in place on each update.
 */
import { bestText, paramsText, parallelLayout, parseSweepId, progressText, sortSweepRows, valueText, type SweepPayload, type SweepRow } from "../protocol";
import { cellText } from "./widgets";
import { h, setText } from "./dom";

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * What the page does with a sweep beyond its card: the dashboard plugin sets `open` (the command
 * that opens the dashboard on the sweep); while it is unset the card has no button for it.
 */
export const sweepActions: { open?: (experiment: string, sweep: number) => void } = {};

/** One sweep's card. */
export class SweepCardView {
  readonly node: HTMLElement;

  constructor() {
    this._title = h("div", { class: "jp-labnote-sweep-title" });
    this._badge = h("span", { class: "jp-labnote-badge" });
    this._fill = h("div", { class: "jp-labnote-progress-fill" });
    this._bar = h("div", { class: "jp-labnote-progress-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, [this._fill]);
    this._progress = h("span", { class: "jp-labnote-progress-text" });
    this._best = h("div", { class: "jp-labnote-sweep-best" });
    this._current = h("div", { class: "jp-labnote-sweep-current" });
    this._chart = h("div", { class: "jp-labnote-sweep-chart" });
    this._table = h("table", { class: "jp-labnote-table jp-labnote-sweep-table" });
    this._rest = h("div", { class: "jp-labnote-sweep-rest" });
    this._open = h("button", { class: "jp-labnote-button jp-labnote-sweep-open", type: "button", text: "Open in dashboard", title: "Show this sweep's trials in the Experiments dashboard, on parallel coordinates" });
    this._open.hidden = sweepActions.open === undefined;
    this._open.addEventListener("click", () => {
      const p = this._p;
      if (!p || !sweepActions.open) return;
      try {
        const experiment = p.experiment || p.id.replace(/\/sweep-\d+$/, "");
        sweepActions.open(experiment, parseSweepId(experiment, p.id));
      } catch {
        // A payload whose id names no sweep of its experiment: nothing to open.
      }
    });
    this.node = h("div", { class: "jp-labnote-sweep" }, [
      h("div", { class: "jp-labnote-sweep-head" }, [this._title, this._badge, this._open]),
      h("div", { class: "jp-labnote-progress" }, [this._bar, this._progress]),
      this._best,
      this._current,
      this._chart,
      this._table,
      this._rest,
    ]);
  }

  /** Show `p`. */
  update(p: SweepPayload): void {
    this._p = p;
    setText(this._title, `${p.id}${p.name ? ` · ${p.name}` : ""} · ${p.strategy}${p.strategy === "random" ? ` (seed ${p.seed})` : ""}`);
    setText(this._badge, p.status);
    this._badge.className = `jp-labnote-badge jp-labnote-status-${p.status}`;
    const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    this._fill.style.width = `${(frac * 100).toFixed(1)}%`;
    this._bar.setAttribute("aria-valuenow", String(Math.round(frac * 100)));
    setText(this._progress, progressText(p));
    setText(this._best, bestText(p));
    setText(this._current, p.current ? `running: trial ${p.current.trial + 1} · ${p.current.run} · ${paramsText(p.current.params)}${p.current.value !== null ? ` · ${p.metric ?? "value"} ${valueText(p.current.value)}` : ""}` : "");
    this._drawChart(p);
    this._drawTable();
    setText(this._rest, p.rest ? `and ${p.rest} more trial${p.rest === 1 ? "" : "s"}` : "");
  }

  /** The column the table is sorted by (null: the metric) and the direction. */
  get sort(): { by: string | null; dir: "asc" | "desc" } {
    return { by: this._by, dir: this._dir ?? this._metricDir() };
  }

  /** Sort the table by a column (null: the metric); the same column again flips the direction. */
  sortBy(by: string | null): void {
    const cur = this.sort;
    this._dir = cur.by === by ? (cur.dir === "asc" ? "desc" : "asc") : by === null ? this._metricDir() : "asc";
    this._by = by;
    this._drawTable();
  }

  private _metricDir(): "asc" | "desc" {
    return this._p?.goal === "max" ? "desc" : "asc";
  }

  private _drawChart(p: SweepPayload): void {
    if (p.lines.length === 0) {
      this._chart.replaceChildren();
      return;
    }
    const w = 640;
    const hgt = 180;
    const { axes, lines } = parallelLayout(p, w, hgt);
    const root = svg("svg", { width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}` });
    for (const l of lines) {
      const line = svg("polyline", { fill: "none", stroke: l.color, "stroke-opacity": l.best ? 1 : 0.55, "stroke-width": l.best ? 2.5 : 1, points: l.points.map(([a, b]) => `${a},${b}`).join(" ") });
      line.append(svg("title", {}, `trial ${l.trial + 1} · ${l.run}`));
      root.append(line);
    }
    for (const a of axes) {
      root.append(svg("line", { x1: a.x, x2: a.x, y1: a.top, y2: a.bottom, class: "jp-labnote-sweep-axis" }));
      root.append(svg("text", { x: a.x, y: 12, "text-anchor": "middle", class: "jp-labnote-sweep-axis-name" }, a.key.slice(0, 24)));
      for (const t of a.ticks) root.append(svg("text", { x: a.x + 4, y: t.y + 3, class: "jp-labnote-sweep-tick" }, t.label));
    }
    this._chart.replaceChildren(root);
  }

  private _drawTable(): void {
    const p = this._p;
    if (!p || p.rows.length === 0) {
      this._table.replaceChildren();
      return;
    }
    const { by, dir } = this.sort;
    const arrow = (col: string | null) => (col === by ? (dir === "asc" ? " ▲" : " ▼") : "");
    const header = (label: string, col: string | null | undefined) => {
      if (col === undefined) return h("th", { text: label });
      const button = h("button", { class: "jp-labnote-sweep-sort", type: "button", text: `${label}${arrow(col)}`, title: `sort by ${label}` });
      button.addEventListener("click", () => this.sortBy(col));
      return h("th", {}, [button]);
    };
    const metric = p.metric ?? "value";
    const head = h("tr", {}, [header("#", undefined), header("run", undefined), header("status", undefined), ...p.keys.map((k) => header(k, k)), header(metric, null)]);
    const rows = sortSweepRows(p.rows, by, dir).map((r: SweepRow) =>
      h("tr", { class: p.best && r.run === p.best.run ? "jp-labnote-sweep-best-row" : undefined, "data-run": r.run }, [
        h("td", { text: String(r.trial + 1) }),
        h("td", { text: r.run }),
        h("td", { class: `jp-labnote-status-text jp-labnote-status-${r.status}`, text: r.status }),
        ...p.keys.map((k) => h("td", { text: cellText(r.params[k]) })),
        h("td", { class: "jp-labnote-num", text: valueText(r.value) }),
      ]),
    );
    this._table.replaceChildren(h("thead", {}, [head]), h("tbody", {}, rows));
  }

  private _p: SweepPayload | undefined;
  private _by: string | null = null;
  private _dir: "asc" | "desc" | undefined;
  private readonly _title: HTMLElement;
  private readonly _badge: HTMLElement;
  private readonly _fill: HTMLElement;
  private readonly _bar: HTMLElement;
  private readonly _progress: HTMLElement;
  private readonly _best: HTMLElement;
  private readonly _current: HTMLElement;
  private readonly _chart: HTMLElement;
  private readonly _table: HTMLElement;
  private readonly _rest: HTMLElement;
  private readonly _open: HTMLButtonElement;
}
