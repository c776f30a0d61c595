/**
 * The dashboard's trash: runs deleted here or with `labnote rm`, each with a Restore button
 * (it goes back under its own number, which no new run took meanwhile).
 */
import { Signal, type ISignal } from "@lumino/signaling";
import { formatDuration } from "../protocol";
import type { StoreEditor, TrashedRun } from "../model/edits";
import { h, setText } from "../views/dom";

/** The list of trashed runs (hidden until asked for). */
export class TrashView {
  constructor(editor: () => StoreEditor | undefined) {
    this._editor = editor;
    this._state = h("div", { class: "jp-labnote-trash-state", role: "status" });
    this._list = h("tbody");
    this.node = h("div", { class: "jp-labnote-dashboard-trash", hidden: "" }, [
      h("div", { class: "jp-labnote-annotate-head", text: "Trash — runs deleted here or with labnote rm; labnote gc empties it" }),
      this._state,
      h("table", { class: "jp-labnote-table jp-labnote-trash-table" }, [this._list]),
    ]);
    this._list.addEventListener("click", (e) => {
      const b = (e.target as HTMLElement).closest("button[data-id]") as HTMLButtonElement | null;
      const run = b ? this._runs.find((r) => r.id === b.dataset.id) : undefined;
      if (run) void this._restore(run, b!);
    });
  }

  readonly node: HTMLElement;

  /** Emitted with a run's id once it is back in its experiment. */
  get restored(): ISignal<this, string> {
    return this._restored;
  }

  /** Read the trash again and list it. */
  async refresh(): Promise<void> {
    const editor = this._editor();
    if (!editor) {
      setText(this._state, "This store lies outside the Jupyter server's root.");
      this._runs = [];
    } else {
      this._runs = await editor.trashed();
      setText(this._state, this._runs.length ? `${this._runs.length} run${this._runs.length === 1 ? "" : "s"} in the trash` : "The trash is empty.");
    }
    this._list.replaceChildren(
      ...this._runs.map((r) =>
        h("tr", { "data-id": r.id }, [
          h("td", { class: "jp-labnote-id", text: r.id }),
          h("td", { text: r.record?.name ?? "" }),
          h("td", { class: `jp-labnote-status-text jp-labnote-status-${r.record?.status ?? "unknown"}`, text: r.record?.status ?? "no record" }),
          h("td", { class: "jp-labnote-num", text: formatDuration(r.record?.duration) }),
          h("td", {}, [h("button", { class: "jp-labnote-button jp-labnote-restore", "data-id": r.id, text: "Restore", title: `Put ${r.id} back in its experiment` })]),
        ]),
      ),
    );
  }

  private async _restore(run: TrashedRun, button: HTMLButtonElement): Promise<void> {
    const editor = this._editor();
    if (!editor) return;
    button.disabled = true;
    try {
      await editor.restore(run);
      this._restored.emit(run.id);
      await this.refresh();
    } catch (e) {
      button.disabled = false;
      setText(this._state, e instanceof Error ? e.message : String(e));
    }
  }

  private readonly _editor: () => StoreEditor | undefined;
  private readonly _state: HTMLElement;
  private readonly _list: HTMLTableSectionElement;
  private _runs: TrashedRun[] = [];
  private readonly _restored = new Signal<this, string>(this);
}
