import { MIME, PROTOCOL_VERSION, escapeHtml, type ProgressPayload } from "../protocol";
import { getBridge } from "./bridge";
import { formatDuration } from "./card";
import { UPDATE_MS, newDisplayId } from "./live";

/** A progress bar you advance by hand. */
export interface Progress {
  /** Advance by `n` (default 1). */
  tick(n?: number): void;
  /** Mark finished (sends the final state). */
  done(): void;
  readonly count: number;
}

function bundle(p: ProgressPayload): Record<string, unknown> {
  const pct = p.total ? Math.min(100, (100 * p.count) / p.total) : undefined;
  const eta = p.eta !== undefined && !p.done ? `, ${formatDuration(p.eta * 1000)} left` : "";
  const text = `${p.label ? p.label + ": " : ""}${p.count}${p.total !== undefined ? `/${p.total}` : ""}${pct !== undefined ? ` (${pct.toFixed(0)}%)` : ""} · ${p.rate.toFixed(p.rate < 10 ? 2 : 0)}/s${eta}${p.done ? " · done" : ""}`;
  const bar = p.total !== undefined ? `<progress value="${p.count}" max="${p.total}" style="width:240px;vertical-align:middle"></progress> ` : "";
  return {
    [MIME.progress]: p,
    "text/html": `<div style="font-family:system-ui,sans-serif;font-size:12px">${bar}${escapeHtml(text)}</div>`,
    "text/plain": text,
  };
}

/**
 * Make a progress bar that shows count, rate and ETA in the cell output (when running in a
 * notebook) and updates a few times a second.
 */
export function makeProgress(total: number | undefined, label: string, runId?: string): Progress {
  const bridge = getBridge();
  const id = newDisplayId("progress");
  const startTime = Date.now();
  let count = 0;
  let last = 0;
  let finished = false;
  const payload = (done: boolean): ProgressPayload => {
    const now = Date.now();
    const secs = Math.max(1e-3, (now - startTime) / 1000);
    const rate = count / secs;
    const p: ProgressPayload = { v: PROTOCOL_VERSION, kind: "progress", label, count, rate, startTime, sentAt: now, done };
    if (runId) p.runId = runId;
    if (total !== undefined) {
      p.total = total;
      if (rate > 0) p.eta = Math.max(0, (total - count) / rate);
    }
    return p;
  };
  bridge?.display(bundle(payload(false)), id);
  return {
    tick(n = 1) {
      count += n;
      if (!bridge || finished) return;
      const now = Date.now();
      if (now - last >= UPDATE_MS) {
        last = now;
        bridge.update(bundle(payload(false)), id);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      bridge?.update(bundle(payload(true)), id);
    },
    get count() {
      return count;
    },
  };
}

/** Wrap an iterable so the bar advances as it is consumed. */
export function trackIterable<T>(items: Iterable<T>, label: string, runId?: string): Iterable<T> {
  const total = Array.isArray(items) ? items.length : typeof (items as unknown as { size?: unknown }).size === "number" ? (items as unknown as { size: number }).size : undefined;
  return {
    *[Symbol.iterator]() {
      const p = makeProgress(total, label, runId);
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
