/**
 * The dashboard's notes and tags editor for one run: the tags a person added (the record's own
 * tags shown beside them, fixed), and free-text notes, saved to the run's annotations.json.
 */
import { Signal, type ISignal } from "@lumino/signaling";
import { parseTagList, type Annotations } from "../protocol";
import type { HistoryRun } from "../model/store";
import type { StoreEditor } from "../model/edits";
import { h, setText } from "../views/dom";

/** The editor of the run last clicked (hidden while none is). */
export class AnnotateView {
  constructor(editor: () => StoreEditor | undefined) {
    this._editor = editor;
    this._title = h("span", { class: "jp-labnote-annotate-title" });
    this._own = h("span", { class: "jp-labnote-annotate-own", title: "Tags the run was started with (kept)" });
    this._tags = h("input", { class: "jp-labnote-filter jp-labnote-annotate-tags", type: "text", placeholder: "tags: best, v2 (commas or spaces)", spellcheck: "false" });
    this._notes = h("textarea", { class: "jp-labnote-annotate-notes", placeholder: "Notes on this run", rows: "3" });
    this._save = h("button", { class: "jp-labnote-button jp-mod-accept jp-labnote-annotate-save", text: "Save notes and tags" });
    this._close = h("button", { class: "jp-labnote-button", text: "Close", title: "Close the editor" });
    this._state = h("span", { class: "jp-labnote-annotate-state", role: "status" });
    this.node = h("div", { class: "jp-labnote-dashboard-annotate", hidden: "" }, [
      h("div", { class: "jp-labnote-annotate-head" }, [this._title, this._own]),
      h("div", { class: "jp-labnote-annotate-row" }, [this._tags]),
      this._notes,
      h("div", { class: "jp-labnote-annotate-row" }, [this._save, this._close, this._state]),
    ]);
    this._save.addEventListener("click", () => void this._doSave());
    this._close.addEventListener("click", () => this.show(undefined));
    this._notes.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") void this._doSave();
    });
    this._tags.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void this._doSave();
    });
  }

  readonly node: HTMLElement;

  /** Emitted with the run's id and what was written, once its annotations are on disk. */
  get saved(): ISignal<this, { id: string; annotations: Annotations }> {
    return this._saved;
  }

  /** The run being edited, if any. */
  get run(): HistoryRun | undefined {
    return this._run;
  }

  /** Edit `run` (undefined hides the editor). Unsaved text of the same run stays. */
  show(run: HistoryRun | undefined): void {
    const same = run !== undefined && this._run?.id === run.id;
    this._run = run;
    this.node.hidden = run === undefined;
    if (!run) return;
    const added = run.annotations?.tags ?? [];
    const own = run.record.tags.filter((t) => !added.includes(t));
    setText(this._title, `Notes and tags of ${run.id}${run.record.name ? ` (${run.record.name})` : ""}`);
    setText(this._own, own.length ? `started with: ${own.join(", ")}` : "");
    if (same && this._dirty) return;
    this._tags.value = added.join(", ");
    this._notes.value = run.annotations?.notes ?? run.record.notes ?? "";
    this._dirty = false;
    // The same run read again (after a save, or live) keeps saying "saved".
    if (!same) setText(this._state, "");
    this._tags.oninput = this._notes.oninput = () => {
      this._dirty = true;
      setText(this._state, "unsaved");
    };
  }

  private async _doSave(): Promise<void> {
    const run = this._run;
    const editor = this._editor();
    if (!run) return;
    if (!editor) {
      this._fail("This store lies outside the Jupyter server's root: it cannot be written from here.");
      return;
    }
    let tags: string[];
    try {
      tags = parseTagList(this._tags.value);
    } catch (e) {
      this._fail(e instanceof Error ? e.message : String(e));
      return;
    }
    this._save.disabled = true;
    setText(this._state, "saving…");
    try {
      const annotations = await editor.annotate(run, this._notes.value, tags);
      this._dirty = false;
      this._state.classList.remove("jp-labnote-error-text");
      setText(this._state, "saved");
      this._saved.emit({ id: run.id, annotations });
    } catch (e) {
      this._fail(e instanceof Error ? e.message : String(e));
    } finally {
      this._save.disabled = false;
    }
  }

  private _fail(text: string): void {
    this._state.classList.add("jp-labnote-error-text");
    setText(this._state, text);
  }

  private readonly _editor: () => StoreEditor | undefined;
  private readonly _title: HTMLElement;
  private readonly _own: HTMLElement;
  private readonly _tags: HTMLInputElement;
  private readonly _notes: HTMLTextAreaElement;
  private readonly _save: HTMLButtonElement;
  private readonly _close: HTMLButtonElement;
  private readonly _state: HTMLElement;
  private _run: HistoryRun | undefined;
  private _dirty = false;
  private readonly _saved = new Signal<this, { id: string; annotations: Annotations }>(this);
}
