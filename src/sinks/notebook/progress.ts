import { MIME, PROTOCOL_VERSION, escapeHtml, formatDuration, type ProgressPayload } from "../../protocol";
import type { ProgressEvent, RunSink, RunView } from "../../core/events";
import { UPDATE_MS, newDisplayId, type Display } from "./display";

/** A progress bar's display bundle: labnote's payload with HTML and text fallbacks. */
export function progressBundle(p: ProgressPayload): Record<string, unknown> {
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

/** The payload of a progress event: count, rate and time left. */
export function progressPayload(runId: string, ev: ProgressEvent, now = Date.now()): ProgressPayload {
  const secs = Math.max(1e-3, (ev.time - ev.startTime) / 1000);
  const rate = ev.count / secs;
  const p: ProgressPayload = { v: PROTOCOL_VERSION, kind: "progress", runId, label: ev.label, count: ev.count, rate, startTime: ev.startTime, sentAt: now, done: ev.done };
  if (ev.total !== undefined) {
    p.total = ev.total;
    if (rate > 0) p.eta = Math.max(0, (ev.total - ev.count) / rate);
  }
  return p;
}

/** Draws a run's progress bars in the cell output, each updated at most every {@link UPDATE_MS}. */
export class ProgressSink implements RunSink {
  constructor(display: Display) {
    this.display = display;
  }

  progress(run: RunView, ev: ProgressEvent): void {
    let bar = this.bars.get(ev.id);
    if (!bar) {
      bar = { displayId: newDisplayId("progress"), last: Date.now() };
      this.bars.set(ev.id, bar);
      this.display.display(progressBundle(progressPayload(run.id, ev)), bar.displayId);
      return;
    }
    const now = Date.now();
    if (!ev.done && now - bar.last < UPDATE_MS) return;
    bar.last = now;
    this.display.update(progressBundle(progressPayload(run.id, ev, now)), bar.displayId);
    if (ev.done) this.bars.delete(ev.id);
  }

  private readonly display: Display;
  private readonly bars = new Map<string, { displayId: string; last: number }>();
}
