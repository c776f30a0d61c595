/**
 * The Live view: the runs the followed notebook's kernel is running or ran in this session,
 * newest first, and the selected run (by default the running one) as a card. Rows are keyed
 * by run id, so a busy run updates its row without rebuilding the list.
 */
import { formatDuration, formatNumber, type RunPayload } from "../protocol";
import type { LiveRun } from "../model/live";
import { recordTiming } from "../timing";
import { RunCard, type ArtifactHandler } from "./card";
import { badge, h, setBadge, setText } from "./dom";

interface LiveRow {
  li: HTMLElement;
  status: HTMLElement;
  name: HTMLElement;
  id: HTMLElement;
  metric: HTMLElement;
  time: HTMLElement;
}

/** The run a Live view shows in full: the one picked, else the running one, else the newest. */
export function pickRun(runs: readonly LiveRun[], picked: string | undefined): LiveRun | undefined {
  if (picked) {
    const r = runs.find((x) => x.id === picked);
    if (r) return r;
  }
  return runs.find((r) => r.payload.status === "running") ?? runs[0];
}

/** The runs list and the selected run's card. */
export class LiveView {
  readonly node: HTMLElement;

  constructor(artifacts: ArtifactHandler, onOrigin?: (p: RunPayload) => void) {
    this._summary = h("div", { class: "jp-labnote-live-summary" });
    this._list = h("ul", { class: "jp-labnote-runs", role: "listbox" });
    this._card = new RunCard({ artifacts, chartHeight: 110, configOpen: true, timingName: "panel", onOrigin });
    this._detail = h("div", { class: "jp-labnote-detail", hidden: "" }, [this._card.node]);
    this.node = h("div", { class: "jp-labnote-live" }, [this._summary, this._list, this._detail]);
  }

  /** The id of the run clicked in the list, if any. */
  get picked(): string | undefined {
    return this._picked;
  }

  /** Pick the run shown in full (undefined: the running one). */
  set picked(id: string | undefined) {
    this._picked = id;
  }

  /** The list element, whose rows carry `data-id`. */
  get list(): HTMLElement {
    return this._list;
  }

  /** Show `runs` (newest first), `running` of them running. */
  render(runs: readonly LiveRun[], running: number): void {
    const t0 = performance.now();
    this._summary.hidden = runs.length === 0;
    this._summary.dataset.running = String(running);
    setText(this._summary, `${running} running · ${runs.length} run${runs.length === 1 ? "" : "s"} in this session`);
    const seen = new Set<string>();
    let prev: Element | null = null;
    const selected = pickRun(runs, this._picked);
    for (const run of runs) {
      seen.add(run.id);
      let row = this._rows.get(run.id);
      if (!row) {
        row = makeRow(run);
        this._rows.set(run.id, row);
      }
      updateRow(row, run, run === selected);
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
    this._detail.hidden = !selected;
    if (selected) this._card.update(selected.payload);
    recordTiming("panel-live-render", performance.now() - t0);
  }

  /** Finalize the card's charts. */
  dispose(): void {
    this._card.dispose();
  }

  private _summary: HTMLElement;
  private _list: HTMLElement;
  private _card: RunCard;
  private _detail: HTMLElement;
  private _rows = new Map<string, LiveRow>();
  private _picked: string | undefined;
}

function makeRow(run: LiveRun): LiveRow {
  const status = badge(run.payload.status);
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

function updateRow(row: LiveRow, run: LiveRun, selected: boolean): void {
  const p = run.payload;
  setBadge(row.status, p.status);
  row.li.dataset.status = p.status;
  row.li.classList.toggle("jp-labnote-selected", selected);
  row.li.setAttribute("aria-selected", String(selected));
  setText(row.name, p.name);
  row.name.title = p.name;
  setText(row.id, p.id);
  const m = p.metrics[0];
  setText(row.metric, m ? `${m.name} ${formatNumber(m.last)}` : "");
  row.metric.title = m ? m.name : "";
  const end = p.endTime ?? (p.status === "running" ? p.sentAt : run.lastSeen);
  setText(row.time, formatDuration(end - p.startTime));
}
