import type { RunObserver } from "../run/observer";
import type { Run } from "../run/run";
import type { KernelBridge } from "./bridge";
import { runBundle } from "./card";

/** Updates a card at most this often; Jupyter drops IOPub traffic above 1000 msg/s or 1 MB/s. */
export const UPDATE_MS = 250;

let ids = 0;

/** A fresh display id (unique across kernels and reloads). */
export function newDisplayId(kind: string): string {
  return `labnote-${kind}-${process.pid}-${Date.now().toString(36)}-${++ids}`;
}

/**
 * Shows a run's card in the cell output when it starts and updates it in place, coalescing
 * changes to a few updates a second; the final update is sent when the run ends.
 */
export class CardObserver implements RunObserver {
  readonly displayId = newDisplayId("run");

  constructor(bridge: KernelBridge) {
    this.bridge = bridge;
  }

  started(run: Run<unknown>): void {
    this.bridge.display(runBundle(run), this.displayId);
    this.timer = setInterval(() => {
      if (!this.dirty) return;
      this.dirty = false;
      this.bridge.update(runBundle(run), this.displayId);
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

  ended(run: Run<unknown>): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.bridge.update(runBundle(run), this.displayId);
  }

  private readonly bridge: KernelBridge;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
}
