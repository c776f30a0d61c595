/** A run read from disk, shown in full with the same card as a live run. */
import type { RunPayload } from "../protocol";
import { RunCard, type ArtifactHandler } from "./card";
import { h } from "./dom";

/** The History view's run detail. */
export class RunDetail {
  readonly node: HTMLElement;

  constructor(artifacts: ArtifactHandler) {
    this._card = new RunCard({ artifacts, chartHeight: 110, configOpen: true, timingName: "history-card" });
    this.node = h("div", { class: "jp-labnote-detail", hidden: "" }, [this._card.node]);
  }

  /** Show a run (built by the store reader with the protocol's payload builder), or hide. */
  show(p: RunPayload | undefined): void {
    this.node.hidden = !p;
    if (p) this._card.update(p);
  }

  /** Finalize the card's charts. */
  dispose(): void {
    this._card.dispose();
  }

  private _card: RunCard;
}
