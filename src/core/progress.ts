/**
 * Progress bars of a run: the core counts and emits progress events; a sink (the notebook's)
 * draws them. Events are emitted at most every {@link PROGRESS_MS}, plus the first and the last.
 */
import type { ProgressEvent } from "./events";

/** The shortest time between two progress events of one bar. */
export const PROGRESS_MS = 100;

/** A progress bar you advance by hand. */
export interface Progress {
  /** Advance by `n` (default 1). */
  tick(n?: number): void;
  /** Mark finished (sends the final state). */
  done(): void;
  readonly count: number;
}

/** What a bar needs of its run. */
export interface ProgressHost {
  readonly id: string;
  readonly status: string;
  notify(event: "progress", p: ProgressEvent): void;
}

let bars = 0;

/** A bar of `total` items (or an unknown total) that emits its state as it advances. */
export function makeProgress(host: ProgressHost, total: number | undefined, label: string): Progress {
  const id = `${host.id}#${++bars}`;
  const startTime = Date.now();
  let count = 0;
  let last = 0;
  let finished = false;
  const emit = (done: boolean, time = Date.now()) => {
    // A bar that outlives its run (a loop still draining after the end) goes quiet.
    if (host.status !== "running" && !done) return;
    const ev: ProgressEvent = { id, label, count, startTime, time, done };
    if (total !== undefined) ev.total = total;
    host.notify("progress", ev);
  };
  emit(false, startTime);
  return {
    tick(n = 1) {
      count += n;
      if (finished) return;
      const now = Date.now();
      if (now - last >= PROGRESS_MS) {
        last = now;
        emit(false, now);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      emit(true);
    },
    get count() {
      return count;
    },
  };
}

/** Wrap an iterable so its bar advances as it is consumed. */
export function trackIterable<T>(host: ProgressHost, items: Iterable<T>, label: string): Iterable<T> {
  const total = Array.isArray(items) ? items.length : typeof (items as unknown as { size?: unknown }).size === "number" ? (items as unknown as { size: number }).size : undefined;
  return {
    *[Symbol.iterator]() {
      const p = makeProgress(host, total, label);
      try {
        for (const x of items) {
          yield x;
          p.tick();
        }
      } finally {
        p.done();
      }
    },
  };
}
