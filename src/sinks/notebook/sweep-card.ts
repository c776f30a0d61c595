/**
 * The sweep card: one card in the cell output for a whole sweep, updated in place a few times a
 * second. labnote's payload plus the fallbacks stock JupyterLab renders (vega-lite parallel
 * coordinates, an HTML card with a progress bar, the best trials and an SVG chart, and text),
 * at most {@link MAX_BUNDLE_BYTES} whatever the number of trials.
 */
import {
  PROTOCOL_VERSION,
  ROW_ERROR_CHARS,
  SWEEP_MIME,
  latestTrials,
  rankTrials,
  sweepCounts,
  sweepHtml,
  sweepText,
  sweepVega,
  toWire,
  trialValue,
  type SweepPayload,
  type SweepRecord,
  type SweepRow,
  type SweepTrial,
} from "../../protocol";
import type { SweepDisplay, SweepView } from "../../core/sweep/view";
import { MAX_BUNDLE_BYTES } from "./card";
import { UPDATE_MS, newDisplayId, type Display } from "./display";

/** The table shows at most this many trials (the best ones); the rest are counted. */
export const SWEEP_TABLE_ROWS = 50;

function row(t: SweepTrial, value?: number): SweepRow {
  const v = value ?? (t.value === undefined ? undefined : trialValue(t));
  const r: SweepRow = { trial: t.trial, run: t.run, status: t.status, params: t.params, value: v === undefined ? null : toWire(v) };
  if (t.status === "failed" && t.error) r.error = t.error.slice(0, ROW_ERROR_CHARS);
  return r;
}

/** At most `n` rows for the chart: the best half, and an even sample of the others. */
function sample(ranked: readonly SweepTrial[], n: number): SweepTrial[] {
  if (ranked.length <= n) return [...ranked];
  const best = Math.ceil(n / 2);
  const out = ranked.slice(0, best);
  const others = ranked.slice(best);
  const k = n - best;
  for (let i = 0; i < k; i++) out.push(others[Math.floor((i * others.length) / k)]);
  return out;
}

/** The card's payload with at most `lines` trials in the chart and `rows` in the table. */
export function sweepPayload(view: SweepView, lines = 200, rows = SWEEP_TABLE_ROWS, now = Date.now()): SweepPayload {
  const rec: SweepRecord = view.record();
  const counts = sweepCounts(rec);
  const latest = latestTrials(rec.runs);
  const finished = rankTrials(
    latest.filter((t) => t.status !== "running"),
    rec.goal,
  );
  const ended = latest.filter((t) => (t.status === "completed" || t.status === "failed") && t.endTime !== undefined);
  const p: SweepPayload = {
    v: PROTOCOL_VERSION,
    kind: "sweep",
    id: rec.id,
    experiment: rec.experiment,
    name: rec.name,
    strategy: rec.strategy,
    status: rec.status,
    metric: rec.metric,
    goal: rec.goal,
    seed: rec.seed,
    keys: [...view.keys],
    total: counts.total,
    done: counts.done,
    failed: counts.failed,
    running: counts.running,
    startTime: rec.startTime,
    sentAt: now,
    best: rec.best ? row(rec.best) : null,
    current: null,
    rows: finished.slice(0, rows).map((t) => row(t)),
    rest: Math.max(0, finished.length - rows),
    lines: sample(
      finished.filter((t) => t.status === "completed" && Number.isFinite(trialValue(t))),
      lines,
    ).map((t) => row(t)),
  };
  if (rec.endTime !== undefined) p.endTime = rec.endTime;
  const failed = latest.filter((t) => t.status === "failed").sort((a, b) => a.startTime - b.startTime);
  if (failed.length) p.failure = row(failed[failed.length - 1]);
  const cur = view.current();
  if (cur) p.current = row(cur.trial, cur.value);
  if (rec.status === "running" && ended.length > 0) {
    const mean = ended.reduce((s, t) => s + (t.endTime! - t.startTime), 0) / ended.length;
    const left = Math.max(0, counts.total - counts.done);
    const running = cur ? Math.min(mean, now - cur.trial.startTime) : 0;
    p.eta = Math.max(0, (left * mean - running) / 1000);
  }
  return p;
}

const STEPS: readonly [lines: number, rows: number][] = [
  [200, 50],
  [100, 50],
  [50, 50],
  [25, 25],
  [10, 10],
  [0, 5],
  [0, 0],
];

/** The bundle at the first step from `from` on that fits, and that step. */
function fitBundle(view: SweepView, now: number, from: number): { bundle: Record<string, unknown>; step: number } {
  let bundle: Record<string, unknown> = {};
  let step = Math.max(0, Math.min(from, STEPS.length - 1));
  for (; step < STEPS.length; step++) {
    const [lines, rows] = STEPS[step];
    const p = sweepPayload(view, lines, rows, now);
    bundle = { [SWEEP_MIME]: p, "application/vnd.vegalite.v5+json": sweepVega(p), "text/html": sweepHtml(p), "text/plain": sweepText(p) };
    if (Buffer.byteLength(JSON.stringify(bundle), "utf8") <= MAX_BUNDLE_BYTES) break;
  }
  return { bundle, step: Math.min(step, STEPS.length - 1) };
}

/** The sweep card as a bundle; the chart and table shrink until the bundle fits {@link MAX_BUNDLE_BYTES}. */
export function sweepBundle(view: SweepView, now = Date.now()): Record<string, unknown> {
  return fitBundle(view, now, 0).bundle;
}

/**
 * Shows a sweep's card when the sweep starts and updates it in place, at most every
 * {@link UPDATE_MS}; the last state is sent at once when the sweep ends.
 */
export class SweepCard implements SweepDisplay {
  readonly displayId = newDisplayId("sweep");

  constructor(display: Display, view: SweepView) {
    this.display = display;
    this.view = view;
    display.display(this.bundle(), this.displayId);
    this.timer = setInterval(() => {
      // Elapsed time and time left move on even when no trial does: a quiet card still ticks each second.
      if (!this.dirty && ++this.quiet < 1000 / UPDATE_MS) return;
      this.dirty = false;
      this.quiet = 0;
      this.display.update(this.bundle(), this.displayId);
    }, UPDATE_MS);
    this.timer.unref();
  }

  changed(): void {
    this.dirty = true;
  }

  ended(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.dirty = false;
    // The last state is built from the start: it stays in the notebook, so it gets the most that fits.
    this.step = 0;
    this.display.update(this.bundle(), this.displayId);
  }

  /** The bundle now; updates start at the step that fitted last time (a sweep's card rarely shrinks). */
  private bundle(): Record<string, unknown> {
    const { bundle, step } = fitBundle(this.view, Date.now(), this.step);
    this.step = step;
    return bundle;
  }

  private readonly display: Display;
  private readonly view: SweepView;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private quiet = 0;
  private step = 0;
}
