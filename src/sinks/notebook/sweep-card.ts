/**
 * The sweep card: one card in the cell output for a whole sweep, updated in place a few times a
 * second. labnote's payload plus the fallbacks stock JupyterLab renders (vega-lite parallel
 * coordinates, an HTML card with a progress bar, the best trials and an SVG chart, and text),
 * at most {@link MAX_BUNDLE_BYTES} whatever the number of trials.
 */
import {
  PROTOCOL_VERSION,
  SWEEP_MIME,
  configValueText,
  escapeHtml,
  formatDuration,
  formatNumber,
  fromWire,
  latestTrials,
  parallelAxes,
  rankTrials,
  sweepCounts,
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
  return { trial: t.trial, run: t.run, status: t.status, params: t.params, value: v === undefined ? null : toWire(v) };
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

const STATUS_COLOR: Record<string, string> = { running: "#1a73e8", completed: "#188038", failed: "#d93025", interrupted: "#e37400", died: "#5f6368" };

function valueText(v: SweepRow["value"]): string {
  return v === null ? "" : formatNumber(v);
}

function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${configValueText(v)}`)
    .join(", ");
}

function progressText(p: SweepPayload): string {
  const elapsed = (p.endTime ?? p.sentAt) - p.startTime;
  const parts = [`${p.done}/${p.total} trials`];
  if (p.running) parts.push(`${p.running} running`);
  if (p.failed) parts.push(`${p.failed} failed`);
  parts.push(formatDuration(elapsed));
  if (p.eta !== undefined) parts.push(`about ${formatDuration(p.eta * 1000)} left`);
  return parts.join(" · ");
}

function heading(p: SweepPayload): string {
  return `sweep ${p.id}${p.name ? ` "${p.name}"` : ""} · ${p.strategy}${p.strategy === "random" ? ` (seed ${p.seed})` : ""} · ${p.status}`;
}

function bestText(p: SweepPayload): string {
  if (!p.best) return "";
  return `best ${p.metric ?? "value"} ${valueText(p.best.value)} (${p.goal}) · trial ${p.best.trial + 1} · ${p.best.run} · ${paramsText(p.best.params)}`;
}

/** The parallel coordinates as inline SVG: numbers and escaped labels only. */
function parallelSvg(p: SweepPayload, w = 640, h = 180): string {
  if (p.lines.length === 0) return "";
  const metric = p.metric ?? "value";
  const axes = parallelAxes(p.lines, p.keys, undefined, metric, formatNumber);
  const top = 22;
  const bottom = h - 22;
  const x = (i: number) => 40 + (i * (w - 80)) / Math.max(1, axes.length - 1);
  const y = (at: number) => bottom - at * (bottom - top);
  const m = axes[axes.length - 1];
  // Best trials drawn last (on top) and darkest.
  const ordered = [...p.lines].reverse();
  const polylines = ordered
    .map((r, i) => {
      const pts = axes.map((a, k) => {
        const at = k === axes.length - 1 ? a.position(r.value === null ? NaN : fromWire(r.value)) : a.position(r.params[a.key]);
        return at === null ? "" : `${x(k).toFixed(1)},${y(at).toFixed(1)}`;
      });
      const shade = m.position(r.value === null ? NaN : fromWire(r.value)) ?? 0.5;
      const good = p.goal === "min" ? 1 - shade : shade;
      const last = i === ordered.length - 1;
      return `<polyline fill="none" stroke="${last ? "#d93025" : `hsl(${Math.round(220 - 180 * good)},70%,45%)`}" stroke-opacity="${last ? 1 : 0.55}" stroke-width="${last ? 2.5 : 1}" points="${pts.filter(Boolean).join(" ")}"/>`;
    })
    .join("");
  const axisMarks = axes
    .map((a, k) => {
      const ticks = (a.kind === "category" && a.ticks.length > 8 ? [a.ticks[0], a.ticks[a.ticks.length - 1]] : a.ticks)
        .map((t) => `<text x="${(x(k) + 4).toFixed(1)}" y="${(y(t.at) + 3).toFixed(1)}" font-size="9" fill="#444">${escapeHtml(t.label.slice(0, 14))}</text>`)
        .join("");
      return `<line x1="${x(k).toFixed(1)}" x2="${x(k).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#999"/><text x="${x(k).toFixed(1)}" y="12" font-size="10" text-anchor="middle" font-weight="bold">${escapeHtml(a.key.slice(0, 24))}</text>${ticks}`;
    })
    .join("");
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" style="display:block;margin-top:6px">${polylines}${axisMarks}</svg>`;
}

/** The HTML fallback: a self-contained card, every string from the sweep escaped. */
export function sweepHtml(p: SweepPayload): string {
  const e = escapeHtml;
  const badge = `<span style="background:${STATUS_COLOR[p.status] ?? "#5f6368"};color:#fff;border-radius:8px;padding:1px 8px;font-size:11px">${e(p.status)}</span>`;
  const metric = p.metric ?? "value";
  const head = ["#", "run", "status", ...p.keys, `${metric} (${p.goal === "min" ? "lowest" : "highest"} first)`].map((c) => `<th style="text-align:left">${e(c)}</th>`).join("");
  const body = p.rows
    .map(
      (r) =>
        `<tr${p.best && r.run === p.best.run ? ' style="font-weight:bold"' : ""}><td>${r.trial + 1}</td><td>${e(r.run)}</td><td style="color:${STATUS_COLOR[r.status] ?? "#5f6368"}">${e(r.status)}</td>${p.keys.map((k) => `<td>${e(configValueText(r.params[k]))}</td>`).join("")}<td style="text-align:right">${e(valueText(r.value))}</td></tr>`,
    )
    .join("");
  const cur = p.current ? `<div style="color:#666">running: trial ${p.current.trial + 1} · ${e(p.current.run)} · ${e(paramsText(p.current.params))}${p.current.value !== null ? ` · ${e(metric)} ${e(valueText(p.current.value))}` : ""}</div>` : "";
  return (
    `<div class="labnote-sweep" style="font-family:system-ui,sans-serif;font-size:12px;border:1px solid #ccc;border-radius:6px;padding:8px;max-width:760px">` +
    `<div><b>${e(p.id)}</b>${p.name ? ` · ${e(p.name)}` : ""} · ${e(p.strategy)}${p.strategy === "random" ? ` <span style="color:#666">(seed ${p.seed})</span>` : ""} ${badge}</div>` +
    `<div style="margin-top:4px"><progress value="${p.done}" max="${Math.max(1, p.total)}" style="width:240px;vertical-align:middle"></progress> ${e(progressText(p))}</div>` +
    (p.best ? `<div style="margin-top:4px">best <b>${e(metric)} ${e(valueText(p.best.value))}</b> · trial ${p.best.trial + 1} · ${e(p.best.run)} · <code>${e(paramsText(p.best.params))}</code></div>` : "") +
    cur +
    parallelSvg(p) +
    (body ? `<table style="margin-top:6px"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>` : "") +
    (p.rest ? `<div style="color:#666">and ${p.rest} more trial${p.rest === 1 ? "" : "s"}</div>` : "") +
    `</div>`
  );
}

/** The plain-text fallback: the heading, progress, best and the ten best trials. */
export function sweepText(p: SweepPayload): string {
  const lines = [`labnote ${heading(p)}`, `  ${progressText(p)}`];
  const best = bestText(p);
  if (best) lines.push(`  ${best}`);
  if (p.current) lines.push(`  running: trial ${p.current.trial + 1} · ${p.current.run} · ${paramsText(p.current.params)}`);
  for (const r of p.rows.slice(0, 10)) lines.push(`  ${String(r.trial + 1).padStart(4)} ${r.run} ${r.status} ${valueText(r.value)} ${paramsText(r.params)}`);
  const more = p.rows.length - Math.min(10, p.rows.length) + p.rest;
  if (more) lines.push(`  … and ${more} more`);
  return lines.join("\n");
}

/** The vega-lite fallback: parallel coordinates of the finished trials, coloured by the metric. */
export function sweepVega(p: SweepPayload): Record<string, unknown> {
  const metric = p.metric ?? "value";
  const axes = parallelAxes(p.lines, p.keys, undefined, metric, formatNumber);
  const values: { t: number; axis: string; y: number; v: number | null }[] = [];
  for (const r of p.lines) {
    const v = r.value === null ? NaN : fromWire(r.value);
    axes.forEach((a, k) => {
      const at = k === axes.length - 1 ? a.position(v) : a.position(r.params[a.key]);
      if (at !== null) values.push({ t: r.trial + 1, axis: a.key, y: +at.toFixed(4), v: Number.isFinite(v) ? v : null });
    });
  }
  const ticks = axes.flatMap((a) => (a.kind === "category" && a.ticks.length > 8 ? [a.ticks[0], a.ticks[a.ticks.length - 1]] : a.ticks).map((t) => ({ axis: a.key, y: t.at, label: t.label.slice(0, 14) })));
  const order = axes.map((a) => a.key);
  const x = { field: "axis", type: "nominal", sort: order, title: null, axis: { orient: "top", labelAngle: 0 } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: heading(p), subtitle: [progressText(p), bestText(p)].filter(Boolean) },
    width: Math.max(240, 140 * order.length),
    height: 200,
    layer: [
      {
        data: { values },
        mark: { type: "line", opacity: 0.6, strokeWidth: 1.2 },
        encoding: {
          x,
          y: { field: "y", type: "quantitative", axis: null, scale: { domain: [0, 1] } },
          detail: { field: "t", type: "nominal" },
          color: { field: "v", type: "quantitative", title: metric, scale: { scheme: "viridis", reverse: p.goal === "min" } },
          tooltip: [
            { field: "t", title: "trial" },
            { field: "v", title: metric },
          ],
        },
      },
      { data: { values: order.map((axis) => ({ axis })) }, mark: { type: "rule", color: "#999" }, encoding: { x } },
      { data: { values: ticks }, mark: { type: "text", align: "left", dx: 4, fontSize: 9 }, encoding: { x, y: { field: "y", type: "quantitative", scale: { domain: [0, 1] }, axis: null }, text: { field: "label" } } },
    ],
  };
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
