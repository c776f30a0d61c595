/** A run read from disk, shown in full with the same card as a live run, and its code below. */
import type { RunPayload } from "../protocol";
import type { ReadCode } from "../model/code";
import { RunCard, type ArtifactHandler } from "./card";
import { RunCodeView, type SourceRenderer } from "./code";
import { h } from "./dom";

/** The History view's run detail. */
export class RunDetail {
  readonly node: HTMLElement;

  /** The run's code: its cells and lineage, Open as notebook. */
  readonly code: RunCodeView;

  constructor(artifacts: ArtifactHandler, render?: SourceRenderer, onOrigin?: (p: RunPayload) => void) {
    this._card = new RunCard({ artifacts, chartHeight: 110, configOpen: true, timingName: "history-card", onOrigin });
    this.code = new RunCodeView(render);
    this.node = h("div", { class: "jp-labnote-detail", hidden: "" }, [this._card.node, this.code.node]);
  }

  /** Show a run (built by the store reader with the protocol's payload builder), or hide. */
  show(p: RunPayload | undefined): void {
    this.node.hidden = !p;
    if (p) this._card.update(p);
    else this.code.show(undefined);
  }

  /** Show the run's code (undefined and reading: say it is on its way). */
  showCode(code: ReadCode | undefined, reading = false): void {
    this.code.show(code, reading);
  }

  /** Finalize the card's charts and the code's editors. */
  dispose(): void {
    this._card.dispose();
    this.code.dispose();
  }

  private _card: RunCard;
}
