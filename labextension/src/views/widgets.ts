/** The progress bar and the table widgets of cell outputs. */
import { configValueText, formatDuration, formatNumber, fromWire, isWireNumber, type ProgressPayload, type TablePayload } from "../protocol";
import { h, setText } from "./dom";

/** A progress bar: label, count of total, rate and time left. */
export class ProgressView {
  readonly node: HTMLElement;

  constructor() {
    this._label = h("span", { class: "jp-labnote-progress-label" });
    this._fill = h("div", { class: "jp-labnote-progress-fill" });
    this._text = h("span", { class: "jp-labnote-progress-text" });
    this.node = h("div", { class: "jp-labnote-progress" }, [
      this._label,
      h("div", { class: "jp-labnote-progress-bar", role: "progressbar" }, [this._fill]),
      this._text,
    ]);
  }

  /** Show `p`. */
  update(p: ProgressPayload): void {
    setText(this._label, p.label);
    const known = p.total !== undefined && p.total > 0;
    const frac = known ? Math.min(1, p.count / (p.total as number)) : p.done ? 1 : 0;
    this._fill.style.width = `${(frac * 100).toFixed(1)}%`;
    this.node.classList.toggle("jp-labnote-progress-indeterminate", !known && !p.done);
    this.node.classList.toggle("jp-labnote-progress-done", p.done);
    const parts = [known ? `${p.count}/${p.total}` : String(p.count)];
    if (known) parts.unshift(`${Math.round(frac * 100)}%`);
    if (p.rate > 0) parts.push(`${formatNumber(p.rate)}/s`);
    if (p.done) parts.push(formatDuration(p.sentAt - p.startTime));
    else if (p.eta !== undefined) parts.push(`${formatDuration(p.eta * 1000)} left`);
    setText(this._text, parts.join(" · "));
    this.node.firstElementChild?.setAttribute("aria-valuenow", String(Math.round(frac * 100)));
  }

  private _label: HTMLElement;
  private _fill: HTMLElement;
  private _text: HTMLElement;
}

/** Show a table cell value: numbers formatted, wire numbers decoded, objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  return configValueText(isWireNumber(v) ? fromWire(v) : v);
}

/** A table of runs (or anything) sent by the kernel. */
export class TableView {
  readonly node: HTMLElement;

  constructor() {
    this._title = h("div", { class: "jp-labnote-table-title" });
    this._table = h("table", { class: "jp-labnote-table" });
    this.node = h("div", { class: "jp-labnote-table-wrap" }, [this._title, this._table]);
  }

  /** Show `p` (rebuilt whole: tables are sent once, not streamed). */
  update(p: TablePayload): void {
    setText(this._title, `${p.experiment} · ${p.rows.length} row${p.rows.length === 1 ? "" : "s"}`);
    const head = h("thead", {}, [h("tr", {}, p.columns.map((c) => h("th", { text: c })))]);
    const body = h("tbody");
    const frag = document.createDocumentFragment();
    for (const row of p.rows) {
      const tr = h("tr");
      row.forEach((v, i) => {
        const text = cellText(v);
        const td = h("td", { text });
        if (isWireNumber(v)) td.className = "jp-labnote-num";
        if (p.columns[i] === "status" && typeof v === "string") td.className = `jp-labnote-status-text jp-labnote-status-${/^[a-z]+$/.test(v) ? v : "unknown"}`;
        tr.append(td);
      });
      frag.append(tr);
    }
    body.append(frag);
    this._table.replaceChildren(head, body);
  }

  private _title: HTMLElement;
  private _table: HTMLElement;
}
