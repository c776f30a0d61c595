/**
 * A run's code in its detail: the cells that ran while it was open and its whole lineage (every
 * cell of the session up to its end), each with its execution count, status, time and source
 * in JupyterLab's own editor, read-only; and the line diff of two runs' code for the compare view.
 */
import { Signal, type ISignal } from "@lumino/signaling";
import { formatDuration, type CellChange, type CodeCell, type CodeDiff, type DiffHunk } from "../protocol";
import type { ReadCode } from "../model/code";
import { formatTime, h, setText } from "./dom";

/** Puts `source` into `host` as highlighted, read-only code (JupyterLab's editor); returns how to let it go. */
export type SourceRenderer = (host: HTMLElement, source: string) => { dispose(): void };

/** Plain text, where no editor is at hand. */
export const plainSource: SourceRenderer = (host, source) => {
  host.replaceChildren(h("pre", { class: "jp-labnote-code-plain", text: source }));
  return { dispose: () => host.replaceChildren() };
};

/** Which cells the view lists. */
export type CodeScope = "cells" | "lineage";

/** A cell a person clicked: its execution count and notebook, to scroll the notebook there. */
export interface CellTarget {
  executionCount: number;
  notebook?: string;
  source: string;
}

/** The Code section of a run's detail. */
export class RunCodeView {
  readonly node: HTMLElement;

  constructor(render: SourceRenderer = plainSource) {
    this._render = render;
    this._title = h("span", { class: "jp-labnote-section-title", text: "Code" });
    this._cellsTab = h("button", { class: "jp-labnote-tab jp-labnote-code-tab", "data-scope": "cells", text: "This run" });
    this._lineageTab = h("button", { class: "jp-labnote-tab jp-labnote-code-tab", "data-scope": "lineage", text: "Lineage" });
    this._open = h("button", { class: "jp-labnote-button jp-labnote-open-notebook", text: "Open as notebook", title: "Write the notebook that reproduces this run beside the current one, and open it" });
    this._state = h("span", { class: "jp-labnote-code-state" });
    this._note = h("div", { class: "jp-labnote-hint jp-labnote-code-note", hidden: "" });
    this._list = h("div", { class: "jp-labnote-code-list" });
    this.node = h("div", { class: "jp-labnote-code", hidden: "" }, [
      h("div", { class: "jp-labnote-code-bar" }, [this._title, h("span", { class: "jp-labnote-tabs jp-labnote-code-tabs" }, [this._cellsTab, this._lineageTab]), h("span", { class: "jp-labnote-spacer" }), this._open]),
      this._state,
      this._note,
      this._list,
    ]);
    for (const tab of [this._cellsTab, this._lineageTab]) tab.addEventListener("click", () => this._select(tab.dataset.scope as CodeScope));
    this._open.addEventListener("click", () => this._openRequested.emit(undefined));
  }

  /** Emitted when a person asks to open the run as a notebook. */
  get openRequested(): ISignal<this, void> {
    return this._openRequested;
  }

  /** Emitted when a person clicks a cell's execution count: scroll the notebook to it. */
  get cellClicked(): ISignal<this, CellTarget> {
    return this._cellClicked;
  }

  /** Show a run's code (undefined: nothing, or still reading). */
  show(code: ReadCode | undefined, reading = false): void {
    this._code = code;
    this.node.hidden = !code && !reading;
    if (!code) {
      this._clear();
      this._cellsTab.textContent = "This run";
      this._lineageTab.textContent = "Lineage";
      setText(this._state, reading ? "Reading the run's code…" : "");
      return;
    }
    const own = code.cells.filter((c) => c.during).length;
    const lineage = code.source === "lineage";
    this._cellsTab.textContent = `This run · ${own}`;
    this._lineageTab.textContent = lineage ? `Lineage · ${code.cells.length}` : "Lineage";
    this._lineageTab.disabled = !lineage;
    this._lineageTab.title = lineage ? "Every cell of the session, in execution order, up to the run's end" : "This run's record has no lineage";
    const notes: string[] = [];
    if (code.lineageProblem) notes.push(`No lineage: ${code.lineageProblem}; these are the cells that ran while the run was open.`);
    else if (!lineage) notes.push("This run's record has no lineage (written before session logs, or with capture: { lineage: false }): only the cells that ran while it was open.");
    else if (code.session?.from === "import") notes.push("The session log starts where labnote was imported: earlier cells are missing (register the kernel with labnote install to record the whole session).");
    if (code.missing) notes.push(`${code.missing} cell${code.missing === 1 ? "'s" : "s'"} source is missing from the store.`);
    this._note.hidden = notes.length === 0;
    setText(this._note, notes.join(" "));
    setText(this._state, "");
    this._select(this._scope === "lineage" && lineage ? "lineage" : "cells");
  }

  /** Say that Open as notebook is working, done or failed. */
  setOpenState(text: string, kind: "busy" | "done" | "error"): void {
    this._open.disabled = kind === "busy";
    setText(this._state, text);
    this._state.dataset.kind = kind;
  }

  dispose(): void {
    this._clear();
  }

  private _select(scope: CodeScope): void {
    this._scope = scope;
    this._cellsTab.setAttribute("aria-selected", String(scope === "cells"));
    this._lineageTab.setAttribute("aria-selected", String(scope === "lineage"));
    this._clear();
    const code = this._code;
    if (!code) return;
    const cells = scope === "lineage" ? code.cells : code.cells.filter((c) => c.during);
    if (cells.length === 0) {
      this._list.append(h("div", { class: "jp-labnote-hint", text: scope === "cells" ? "No cell ran while this run was open (started from a script, or its cells were kept out with // labnote: ignore)." : "The lineage is empty." }));
      return;
    }
    for (const c of cells) this._list.append(this._cell(c, scope === "lineage"));
  }

  private _cell(c: CodeCell, marks: boolean): HTMLElement {
    const count = h("button", { class: "jp-labnote-code-count", text: c.executionCount > 0 ? `[${c.executionCount}]` : "[ ]", title: "Show this cell in the notebook" });
    count.addEventListener("click", () => this._cellClicked.emit({ executionCount: c.executionCount, notebook: c.notebook, source: c.source }));
    const failed = c.ok === false;
    const took = c.endTime !== undefined ? formatDuration(c.endTime - c.startTime) : "running";
    const head = h("div", { class: "jp-labnote-code-head" }, [
      count,
      h("span", { class: `jp-labnote-code-status ${failed ? "jp-labnote-code-failed" : "jp-labnote-code-ok"}`, text: failed ? "✗ failed" : c.ok === undefined ? "·" : "✓ ok" }),
      h("span", { class: "jp-labnote-code-took", text: took }),
      h("span", { class: "jp-labnote-code-time", text: formatTime(c.startTime) }),
      ...(marks && c.during ? [h("span", { class: "jp-labnote-code-during", text: "this run", title: "Ran while the run was open" })] : []),
    ]);
    const host = h("div", { class: "jp-labnote-code-source" });
    const node = h("div", { class: `jp-labnote-code-cell${failed ? " jp-mod-failed" : ""}${c.during ? " jp-mod-during" : ""}`, "data-count": String(c.executionCount) }, [head, host]);
    if (failed && c.error) node.append(h("div", { class: "jp-labnote-code-error", text: c.error.split("\n")[0] }));
    this._editors.push(this._render(host, c.source));
    return node;
  }

  private _clear(): void {
    for (const e of this._editors) e.dispose();
    this._editors = [];
    this._list.replaceChildren();
  }

  private _render: SourceRenderer;
  private _code: ReadCode | undefined;
  private _scope: CodeScope = "cells";
  private _editors: { dispose(): void }[] = [];
  private _title: HTMLElement;
  private _cellsTab: HTMLButtonElement;
  private _lineageTab: HTMLButtonElement;
  private _open: HTMLButtonElement;
  private _state: HTMLElement;
  private _note: HTMLElement;
  private _list: HTMLElement;
  private _openRequested = new Signal<this, void>(this);
  private _cellClicked = new Signal<this, CellTarget>(this);
}

const KIND_TEXT: Record<CellChange["kind"], string> = { changed: "changed", again: "run again", added: "added", removed: "removed" };

function ref(r: { executionCount: number } | undefined): string {
  return r === undefined ? "—" : r.executionCount > 0 ? `[${r.executionCount}]` : "[ ]";
}

function hunkNode(hk: DiffHunk): HTMLElement {
  const lines = [h("div", { class: "jp-labnote-diff-hunk", text: `@@ -${hk.aStart},${hk.aLines} +${hk.bStart},${hk.bLines} @@` })];
  for (const l of hk.lines) lines.push(h("div", { class: `jp-labnote-diff-line jp-labnote-diff-${l.op === "+" ? "add" : l.op === "-" ? "del" : "same"}`, text: `${l.op} ${l.text}` }));
  return h("div", { class: "jp-labnote-diff-hunks" }, lines);
}

/** The code diff of the compare view: for each run after the first, which cells differ from the first's and how. */
export function codeDiffNode(diffs: readonly CodeDiff[], label: (id: string) => string): HTMLElement {
  const changes = diffs.reduce((n, d) => n + d.changes.length, 0);
  const title = h("div", { class: "jp-labnote-section-title", text: changes === 0 ? "Code diff · the same code" : `Code diff · ${changes} cell${changes === 1 ? "" : "s"} differ` });
  const parts: HTMLElement[] = [title];
  for (const d of diffs) {
    if (diffs.length > 1 || d.changes.length > 0) parts.push(h("div", { class: "jp-labnote-diff-pair", text: `${label(d.from)} → ${label(d.to)} · ${d.same} cell${d.same === 1 ? "" : "s"} the same, ${d.changes.length} differ` }));
    for (const c of d.changes) {
      const box = h("div", { class: `jp-labnote-diff-cell jp-labnote-diff-${c.kind}` }, [
        h("div", { class: "jp-labnote-diff-head" }, [h("span", { class: "jp-labnote-diff-kind", text: KIND_TEXT[c.kind] }), h("span", { class: "jp-labnote-diff-ref", text: `${ref(c.from)} → ${ref(c.to)}` })]),
      ]);
      for (const hk of c.hunks) box.append(hunkNode(hk));
      parts.push(box);
    }
  }
  return h("div", { class: "jp-labnote-code-diff" }, parts);
}
