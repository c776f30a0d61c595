import type { RunSink, RunView } from "../../core/events";
import { runBundle } from "./card";
import { UPDATE_MS, newDisplayId, type Display } from "./display";

/**
 * Shows a run's card in the cell output when it starts and updates it in place, coalescing
 * changes to a few updates a second; the final update is sent when the run ends.
 */
export class CardSink implements RunSink {
  readonly displayId = newDisplayId("run");

  constructor(display: Display) {
    this.display = display;
  }

  started(run: RunView): void {
    this.display.display(runBundle(run), this.displayId);
    this.timer = setInterval(() => {
      if (!this.dirty) return;
      this.dirty = false;
      this.display.update(runBundle(run), this.displayId);
    }, UPDATE_MS);
    this.timer.unref();
  }

  metrics(): void {
    this.dirty = true;
  }
  artifact(): void {
    this.dirty = true;
  }
  heartbeat(): void {
    this.dirty = true;
  }

  ended(run: RunView): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.display.update(runBundle(run), this.displayId);
  }

  private readonly display: Display;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
}
