/**
 * Keeps one rendered card on its run's latest word: whatever the cell output holds (a live
 * update, or a payload restored from a saved notebook), the card shows the newest payload the
 * registry knows for that run, follows a run that re-ran it, and, while it says `running` and
 * hears nothing, reads the run's record to apply the died rule (a reload, or a kernel that went
 * away while nobody watched, never leaves a card running forever).
 */
import { effectiveStatus, RUN_FILES, type RunPayload } from "../protocol";
import { isNewer, type RunRegistry } from "./registry";

/** How often a quiet running card re-reads its record (the kernel writes a heartbeat every 5 s). */
export const QUIET_CHECK_MS = 10_000;

/** A run's record path relative to the notebook's folder, as the kernel reports the store root. */
export function recordPath(p: Pick<RunPayload, "root" | "experiment" | "number">): string {
  const root = p.root && p.root !== "." ? `${p.root.replace(/\/+$/, "")}/` : "";
  return `${root}${p.experiment}/${p.number}/${RUN_FILES.record}`;
}

/** Ties a card to the registry. */
export class RunFollower {
  /**
   * @param show draws a payload on the card
   * @param resolve turns a path relative to the notebook's folder into one relative to the server root
   */
  constructor(registry: RunRegistry, show: (p: RunPayload) => void, resolve?: (path: string) => Promise<string | undefined>) {
    this._registry = registry;
    this._show = show;
    this._resolve = resolve;
  }

  /** The payload shown. */
  get current(): RunPayload | undefined {
    return this._current;
  }

  /** Take a payload the cell output holds; the card shows it or something newer about the same run. */
  take(p: RunPayload): void {
    this._registry.publish(p);
    const best = this._registry.latest(p.id) ?? p;
    this._draw(this._registry.rerunOf(best.id) ?? best);
  }

  /** Stop listening and checking. */
  dispose(): void {
    this._unlisten?.();
    this._unlisten = undefined;
    clearInterval(this._timer);
    this._timer = 0;
  }

  private _watch(id: string): void {
    if (this._watching === id) return;
    this._unlisten?.();
    this._watching = id;
    this._unlisten = this._registry.listen(id, (p) => {
      // A run that re-ran this one takes the card over.
      if (p.id !== this._watching) {
        this._watch(p.id);
        this._draw(p);
      } else if (isNewer(this._current, p)) this._draw(p);
    });
  }

  private _draw(p: RunPayload): void {
    if (p.id !== this._watching) this._watch(p.id);
    const first = this._current?.id !== p.id;
    if (this._current === p) return;
    this._current = p;
    this._heard = Date.now();
    this._show(p);
    if (p.status === "running") {
      if (first) void this._check();
      if (!this._timer) this._timer = setInterval(() => this._quiet(), QUIET_CHECK_MS) as unknown as number;
    } else if (this._timer) {
      clearInterval(this._timer);
      this._timer = 0;
    }
  }

  private _quiet(): void {
    if (Date.now() - this._heard >= QUIET_CHECK_MS) void this._check();
  }

  /** Read the record of the running run shown; publish what it says when that is an end. */
  private async _check(): Promise<void> {
    const p = this._current;
    const reader = this._registry.reader;
    if (!p || p.status !== "running" || !reader || !this._resolve || !p.experiment) return;
    try {
      const path = await this._resolve(recordPath(p));
      if (!path) return;
      const parsed = await reader(path);
      if (!parsed?.ok || parsed.record.id !== p.id) return;
      const now = Date.now();
      const shown = effectiveStatus(parsed.record, { now, alive: this._registry.isDead(p.id) ? false : undefined });
      if (shown.status === "running") return;
      // Derived from an older payload: its time stays that payload's, so any later message from the kernel still wins.
      const ended: RunPayload = { ...p, status: shown.status };
      if (shown.endTime !== undefined) ended.endTime = shown.endTime;
      if (parsed.record.error) ended.error = { message: parsed.record.error.message, ...(parsed.record.error.stack ? { stack: parsed.record.error.stack } : {}) };
      this._registry.publish(ended);
    } catch {
      // The record cannot be read now; the next quiet check tries again.
    }
  }

  private _registry: RunRegistry;
  private _show: (p: RunPayload) => void;
  private _resolve: ((path: string) => Promise<string | undefined>) | undefined;
  private _current: RunPayload | undefined;
  private _watching: string | undefined;
  private _unlisten: (() => void) | undefined;
  private _timer = 0;
  private _heard = 0;
}
