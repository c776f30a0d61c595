/**
 * The dashboard's sweeps: each experiment's sweep records (`<experiment>/_sweeps/<n>.json`, read
 * through the contents API with the protocol's parser), listed with their strategy, progress,
 * status and best trial. Choosing one filters the table to its trials (the query
 * `tag:sweep-<n>`, shown in the query box), groups them and shows the parallel coordinates over
 * the sweep's space keys and its metric, the best trial highlighted.
 */
import type { Contents } from "@jupyterlab/services";
import { Signal, type ISignal } from "@lumino/signaling";
import { PathExt } from "@jupyterlab/coreutils";
import { SWEEPS_DIR, formatNumber, isSweepFile, paramsText, parseSweepRecord, sweepCounts, sweepTag, trialValue, type SweepRecord } from "../protocol";
import { readText } from "../model/store";
import { h, setText } from "../views/dom";

/** The part of the contents manager the sweeps are read with. */
export interface SweepContents {
  get(path: string, options?: Contents.IFetchOptions): Promise<Contents.IModel>;
}

/** An experiment's sweeps as read: the records (newest first) and the files that did not parse. */
export interface SweepsRead {
  sweeps: SweepRecord[];
  unreadable: { path: string; reason: string }[];
}

/** A sweep's key across experiments: its id, `<experiment>/sweep-<n>`. */
export type SweepKey = string;

/**
 * Read every sweep record of `experiment` under `root` (a path relative to the server root).
 * An experiment without a `_sweeps` folder has none; a file that does not parse is listed with
 * its reason, never shown as a sweep.
 */
export async function readSweeps(contents: SweepContents, root: string, experiment: string): Promise<SweepsRead> {
  const dir = PathExt.join(root, experiment, SWEEPS_DIR);
  let listing: Contents.IModel;
  try {
    listing = await contents.get(dir, { content: true, type: "directory" });
  } catch {
    return { sweeps: [], unreadable: [] };
  }
  const files = (Array.isArray(listing.content) ? (listing.content as Contents.IModel[]) : []).filter((e) => e.type !== "directory" && isSweepFile(e.name));
  const out: SweepsRead = { sweeps: [], unreadable: [] };
  await Promise.all(
    files.map(async (f) => {
      const text = await readText(contents, f.path);
      // Gone between the listing and the read (a rename in flight): it is listed next time.
      if (text === undefined) return;
      const parsed = parseSweepRecord(text);
      if (parsed.ok) out.sweeps.push(parsed.record);
      else out.unreadable.push({ path: f.path, reason: parsed.reason });
    }),
  );
  out.sweeps.sort((a, b) => a.experiment.localeCompare(b.experiment) || b.number - a.number);
  out.unreadable.sort((a, b) => a.path.localeCompare(b.path));
  return out;
}

/** A sweep in one line of the list: what a person picks it by. */
export interface SweepSummary {
  id: string;
  /** The name given with `name:`, else the sweep's tag. */
  name: string;
  strategy: string;
  /** `done/total`, and `· n failed` when any failed. */
  progress: string;
  status: string;
  /** `val_loss 1.2 (min) · lr=0.03, model.hidden=64`, or "" before a trial completes. */
  best: string;
}

/** How a sweep reads in the list. */
export function sweepSummary(s: SweepRecord): SweepSummary {
  const c = sweepCounts(s);
  const progress = `${c.done}/${c.total}${c.failed ? ` · ${c.failed} failed` : ""}${c.running ? ` · ${c.running} running` : ""}`;
  const best = s.best ? `${s.metric ?? "value"} ${formatNumber(trialValue(s.best))} (${s.goal}) · ${s.best.run} · ${paramsText(s.best.params)}` : "";
  return { id: s.id, name: s.name ?? sweepTag(s.number), strategy: s.strategy === "random" ? `random (seed ${s.seed})` : "grid", progress, status: s.status, best };
}

/**
 * The query that shows a sweep's trials: its tag, and its experiment when the table shows more
 * than one (sweep numbers are per experiment).
 */
export function sweepQuery(s: Pick<SweepRecord, "experiment" | "number">, oneExperiment: boolean): string {
  return oneExperiment ? `tag:${sweepTag(s.number)}` : `experiment=${s.experiment} tag:${sweepTag(s.number)}`;
}

/** Whether `query` still shows sweep `s` (the person may have typed something else since). */
export function showsSweep(query: string, s: Pick<SweepRecord, "experiment" | "number">): boolean {
  const terms = query.trim().split(/\s+/);
  return terms.includes(`tag:${sweepTag(s.number)}`) && terms.every((t) => !t.startsWith("experiment=") || t === `experiment=${s.experiment}`);
}

/** The list of sweeps above the table (hidden while the experiments shown have none). */
export class SweepsView {
  readonly node: HTMLElement;

  constructor() {
    this._body = h("tbody");
    this._scroll = h("div", { class: "jp-labnote-sweeps-scroll" });
    this._state = h("span", { class: "jp-labnote-dashboard-label" });
    this._clear = h("button", { class: "jp-labnote-button jp-labnote-sweeps-clear", text: "All runs", title: "Show every run again (leave the sweep)" });
    this.node = h("div", { class: "jp-labnote-dashboard-sweeps", hidden: "" }, [
      h("div", { class: "jp-labnote-sweeps-head" }, [h("span", { class: "jp-labnote-section-title", text: "Sweeps" }), this._state, this._clear]),
      this._scroll,
    ]);
    this._table = h("table", { class: "jp-labnote-table jp-labnote-sweeps-table" }, [
      h("thead", {}, [h("tr", {}, ["sweep", "name", "strategy", "trials done", "status", "best"].map((t) => h("th", { text: t })))]),
      this._body,
    ]);
    this._clear.hidden = true;
    this._clear.addEventListener("click", () => this._chosen.emit(undefined));
    this._body.addEventListener("click", (e) => {
      const tr = (e.target as HTMLElement).closest("tr[data-sweep]") as HTMLElement | null;
      const s = tr ? this._sweeps.find((x) => x.id === tr.dataset.sweep) : undefined;
      if (s) this._chosen.emit(s.id === this._current ? undefined : s);
    });
  }

  /** Emitted with the sweep a person picked, or undefined to leave it. */
  get chosen(): ISignal<this, SweepRecord | undefined> {
    return this._chosen;
  }

  /** The sweeps listed. */
  get sweeps(): readonly SweepRecord[] {
    return this._sweeps;
  }

  /** Whether the person closed the list (the toolbar's Sweeps button). */
  collapsed = false;

  /** List these sweeps; `current` is the one the table shows. */
  show(sweeps: readonly SweepRecord[], current: string | undefined, unreadable: number): void {
    this._sweeps = sweeps;
    this._current = current;
    this.node.hidden = this.collapsed || (sweeps.length === 0 && unreadable === 0);
    this._clear.hidden = current === undefined;
    // The table is in the page only while there is a sweep to list.
    if (sweeps.length === 0) this._scroll.replaceChildren();
    else if (this._table.parentElement !== this._scroll) this._scroll.replaceChildren(this._table);
    setText(this._state, `${sweeps.length} sweep${sweeps.length === 1 ? "" : "s"}${unreadable ? ` · ${unreadable} unreadable` : ""} — click one to see its trials`);
    this._body.replaceChildren(
      ...sweeps.map((s) => {
        const v = sweepSummary(s);
        return h("tr", { "data-sweep": s.id, class: `jp-labnote-sweeps-row${s.id === current ? " jp-labnote-row-open" : ""}`, title: `${s.id}: show its trials, grouped, with their parallel coordinates` }, [
          h("td", { class: "jp-labnote-id", text: s.id }),
          h("td", { text: v.name }),
          h("td", { text: v.strategy }),
          h("td", { class: "jp-labnote-num", text: v.progress }),
          h("td", { class: `jp-labnote-status-text jp-labnote-status-${s.status}`, text: v.status }),
          h("td", { class: "jp-labnote-sweeps-best", text: v.best, title: v.best }),
        ]);
      }),
    );
  }

  private readonly _body: HTMLTableSectionElement;
  private readonly _scroll: HTMLElement;
  private readonly _table: HTMLTableElement;
  private readonly _state: HTMLElement;
  private readonly _clear: HTMLButtonElement;
  private _sweeps: readonly SweepRecord[] = [];
  private _current: string | undefined;
  private readonly _chosen = new Signal<this, SweepRecord | undefined>(this);
}
