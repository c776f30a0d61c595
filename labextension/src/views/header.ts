/** The panel's header: the followed notebook, what its kernel is doing, Export notebook, and the Live/History tabs. */
import { Widget } from "@lumino/widgets";
import { Signal, type ISignal } from "@lumino/signaling";
import type { Message } from "@lumino/messaging";
import { h, setText } from "./dom";
import { kernelLabel } from "./messages";

/** The panel's two views. */
export type Tab = "live" | "history";

/** Title, notebook name, kernel state and tabs. */
export class PanelHeader extends Widget {
  constructor() {
    super();
    this.addClass("jp-labnote-panel-top");
    this._notebook = h("span", { class: "jp-labnote-panel-notebook" });
    this._kernel = h("span", { class: "jp-labnote-kernel" });
    this._liveTab = h("button", { class: "jp-labnote-tab", "data-tab": "live", role: "tab", text: "Live" });
    this._historyTab = h("button", { class: "jp-labnote-tab", "data-tab": "history", role: "tab", text: "History" });
    this._export = h("button", {
      class: "jp-labnote-export",
      text: "Export notebook",
      title: "Save the notebook, then store a snapshot of it (outputs included) in the history, linked to the runs of this kernel session",
    }) as HTMLButtonElement;
    this._exportStatus = h("span", { class: "jp-labnote-export-status" });
    this.node.append(
      h("div", { class: "jp-labnote-panel-header" }, [h("span", { class: "jp-labnote-panel-title", text: "Experiments" }), this._notebook, this._kernel]),
      h("div", { class: "jp-labnote-tabs", role: "tablist" }, [this._liveTab, this._historyTab, h("span", { class: "jp-labnote-spacer" }), this._export]),
      this._exportStatus,
    );
  }

  /** A tab was clicked. */
  get tabRequested(): ISignal<this, Tab> {
    return this._tabRequested;
  }

  /** Export notebook was clicked. */
  get exportRequested(): ISignal<this, void> {
    return this._exportRequested;
  }

  /** Say how the export went (`busy` while it runs: the button waits); "" hides the line. */
  setExportState(text: string, state: "busy" | "done" | "error" | ""): void {
    setText(this._exportStatus, text);
    this._exportStatus.dataset.state = state;
    this._exportStatus.title = text;
    this._export.disabled = state === "busy" || !this._canExport;
  }

  /** Show the followed notebook (path relative to the server root) and its kernel. */
  setState(path: string | undefined, kernelStatus: string, running: number, liveCount: number): void {
    setText(this._notebook, path ? path.split("/").pop() ?? "" : "");
    this._notebook.title = path ?? "";
    const k = path ? kernelLabel(kernelStatus, running) : { text: "", status: "" };
    setText(this._kernel, k.text);
    this._kernel.dataset.status = k.status;
    setText(this._liveTab, liveCount ? `Live (${liveCount})` : "Live");
    this._canExport = path !== undefined && kernelStatus !== "" && kernelStatus !== "dead" && kernelStatus !== "unknown";
    if (this._exportStatus.dataset.state !== "busy") this._export.disabled = !this._canExport;
  }

  /** Mark `tab` selected. */
  select(tab: Tab): void {
    this._liveTab.setAttribute("aria-selected", String(tab === "live"));
    this._historyTab.setAttribute("aria-selected", String(tab === "history"));
  }

  /** Handle tab clicks (the listener lives only while attached). */
  handleEvent(event: Event): void {
    if ((event.target as HTMLElement).closest(".jp-labnote-export")) {
      this._exportRequested.emit();
      return;
    }
    const tab = (event.target as HTMLElement).closest(".jp-labnote-tab[data-tab]") as HTMLElement | null;
    if (tab) this._tabRequested.emit(tab.dataset.tab as Tab);
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.node.addEventListener("click", this);
  }

  protected override onBeforeDetach(msg: Message): void {
    this.node.removeEventListener("click", this);
    super.onBeforeDetach(msg);
  }

  private _notebook: HTMLElement;
  private _kernel: HTMLElement;
  private _liveTab: HTMLElement;
  private _historyTab: HTMLElement;
  private _tabRequested = new Signal<this, Tab>(this);
  private _exportRequested = new Signal<this, void>(this);
  private _export: HTMLButtonElement;
  private _exportStatus: HTMLElement;
  private _canExport = false;
}
