/**
 * How a sweep card reads: its HTML, text and vega-lite forms, built from the card's payload.
 * Pure (no Node, no DOM): the kernel sends them as the stock fallbacks, and the extension shows
 * the same words and chart.
 */
import { configValueText } from "./json";
import { escapeHtml } from "./html";
import { formatDuration, formatNumber } from "./format";
import { fromWire } from "./numbers";
import { parallelAxes, sortSweepRows, type SweepPayload, type SweepRow } from "./sweep";

const STATUS_COLOR: Record<string, string> = { running: "#1a73e8", completed: "#188038", failed: "#d93025", interrupted: "#e37400", died: "#5f6368" };

/** A row's metric value as shown. */
export function valueText(v: SweepRow["value"]): string {
  return v === null ? "" : formatNumber(v);
}

/** A trial's values as `key=value, …`. */
export function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${configValueText(v)}`)
    .join(", ");
}

/** Trials done, running and failed of the total, the time taken and the time left. */
export function progressText(p: SweepPayload): string {
  const elapsed = (p.endTime ?? p.sentAt) - p.startTime;
  const parts = [`${p.done}/${p.total} trials`];
  if (p.running) parts.push(`${p.running} running`);
  if (p.failed) parts.push(`${p.failed} failed`);
  parts.push(formatDuration(elapsed));
  if (p.eta !== undefined) parts.push(`about ${formatDuration(p.eta * 1000)} left`);
  return parts.join(" · ");
}

/** The card's heading: id, name, strategy (and seed), status. */
export function sweepHeading(p: SweepPayload): string {
  return `sweep ${p.id}${p.name ? ` "${p.name}"` : ""} · ${p.strategy}${p.strategy === "random" ? ` (seed ${p.seed})` : ""} · ${p.status}`;
}

/** The best trial in one line. */
export function bestText(p: SweepPayload): string {
  if (!p.best) return "";
  return `best ${p.metric ?? "value"} ${valueText(p.best.value)} (${p.goal}) · trial ${p.best.trial + 1} · ${p.best.run} · ${paramsText(p.best.params)}`;
}

/** The parallel coordinates laid out in a `w`×`h` box: axes with their ticks, and one line per trial (the best last). */
export interface ParallelLayout {
  axes: { key: string; x: number; top: number; bottom: number; ticks: { y: number; label: string }[] }[];
  lines: { trial: number; run: string; points: [number, number][]; color: string; best: boolean }[];
}

/** Lay out a payload's parallel coordinates: one axis per key, then the metric; lines from orange (worse) to green (better), the best one blue. */
export function parallelLayout(p: SweepPayload, w = 640, h = 180): ParallelLayout {
  const metric = p.metric ?? "value";
  const axes = parallelAxes(p.lines, p.keys, undefined, metric, formatNumber);
  const top = 22;
  const bottom = h - 22;
  // Room on the right for the metric axis' labels.
  const x = (i: number) => 30 + (i * (w - 100)) / Math.max(1, axes.length - 1);
  const y = (at: number) => +(bottom - at * (bottom - top)).toFixed(1);
  const m = axes[axes.length - 1];
  const valueOf = (r: SweepRow) => (r.value === null ? NaN : fromWire(r.value));
  // Best trials drawn last (on top).
  const ordered = sortSweepRows(p.lines, null, p.goal === "min" ? "asc" : "desc").reverse();
  const lines = ordered.map((r, i) => {
    const points: [number, number][] = [];
    axes.forEach((a, k) => {
      const at = k === axes.length - 1 ? a.position(valueOf(r)) : a.position(r.params[a.key]);
      if (at !== null) points.push([+x(k).toFixed(1), y(at)]);
    });
    const shade = m.position(valueOf(r)) ?? 0.5;
    const good = p.goal === "min" ? 1 - shade : shade;
    const best = p.best ? r.run === p.best.run : i === ordered.length - 1;
    return { trial: r.trial, run: r.run, points, color: best ? "#1a73e8" : `hsl(${Math.round(30 + 110 * good)},65%,45%)`, best };
  });
  return {
    axes: axes.map((a, k) => ({
      key: a.key,
      x: +x(k).toFixed(1),
      top,
      bottom,
      ticks: (a.kind === "category" && a.ticks.length > 8 ? [a.ticks[0], a.ticks[a.ticks.length - 1]] : a.ticks).map((t) => ({ y: y(t.at), label: t.label.slice(0, 14) })),
    })),
    lines,
  };
}

/** The parallel coordinates as inline SVG: numbers and escaped labels only. */
function parallelSvg(p: SweepPayload, w = 640, h = 180): string {
  if (p.lines.length === 0) return "";
  const { axes, lines } = parallelLayout(p, w, h);
  const polylines = lines
    .map((l) => `<polyline fill="none" stroke="${l.color}" stroke-opacity="${l.best ? 1 : 0.55}" stroke-width="${l.best ? 2.5 : 1}" points="${l.points.map(([a, b]) => `${a},${b}`).join(" ")}"/>`)
    .join("");
  const axisMarks = axes
    .map(
      (a) =>
        `<line x1="${a.x}" x2="${a.x}" y1="${a.top}" y2="${a.bottom}" stroke="#999"/><text x="${a.x}" y="12" font-size="10" text-anchor="middle" font-weight="bold">${escapeHtml(a.key.slice(0, 24))}</text>` +
        a.ticks.map((t) => `<text x="${a.x + 4}" y="${t.y + 3}" font-size="9" fill="#444">${escapeHtml(t.label)}</text>`).join(""),
    )
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
        `<tr${p.best && r.run === p.best.run ? ' style="font-weight:bold"' : ""}><td>${r.trial + 1}</td><td>${e(r.run)}</td><td style="color:${STATUS_COLOR[r.status] ?? "#5f6368"}"${r.error ? ` title="${e(r.error)}"` : ""}>${e(r.status)}</td>${p.keys.map((k) => `<td>${e(configValueText(r.params[k]))}</td>`).join("")}<td style="text-align:right">${e(valueText(r.value))}</td></tr>`,
    )
    .join("");
  const failure = p.failure ? `<div style="color:${STATUS_COLOR.failed}">failed: trial ${p.failure.trial + 1} · ${e(p.failure.run)}${p.failure.error ? ` · ${e(p.failure.error)}` : ""}</div>` : "";
  const cur = p.current ? `<div style="color:#666">running: trial ${p.current.trial + 1} · ${e(p.current.run)} · ${e(paramsText(p.current.params))}${p.current.value !== null ? ` · ${e(metric)} ${e(valueText(p.current.value))}` : ""}</div>` : "";
  return (
    `<div class="labnote-sweep" style="font-family:system-ui,sans-serif;font-size:12px;border:1px solid #ccc;border-radius:6px;padding:8px;max-width:760px">` +
    `<div><b>${e(p.id)}</b>${p.name ? ` · ${e(p.name)}` : ""} · ${e(p.strategy)}${p.strategy === "random" ? ` <span style="color:#666">(seed ${p.seed})</span>` : ""} ${badge}</div>` +
    `<div style="margin-top:4px"><progress value="${p.done}" max="${Math.max(1, p.total)}" style="width:240px;vertical-align:middle"></progress> ${e(progressText(p))}</div>` +
    (p.best ? `<div style="margin-top:4px">best <b>${e(metric)} ${e(valueText(p.best.value))}</b> · trial ${p.best.trial + 1} · ${e(p.best.run)} · <code>${e(paramsText(p.best.params))}</code></div>` : "") +
    cur +
    failure +
    parallelSvg(p) +
    (body ? `<table style="margin-top:6px"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>` : "") +
    (p.rest ? `<div style="color:#666">and ${p.rest} more trial${p.rest === 1 ? "" : "s"}</div>` : "") +
    `</div>`
  );
}

/** The plain-text fallback: the heading, progress, best and the ten best trials. */
export function sweepText(p: SweepPayload): string {
  const lines = [`labnote ${sweepHeading(p)}`, `  ${progressText(p)}`];
  const best = bestText(p);
  if (best) lines.push(`  ${best}`);
  if (p.current) lines.push(`  running: trial ${p.current.trial + 1} · ${p.current.run} · ${paramsText(p.current.params)}`);
  if (p.failure) lines.push(`  failed: trial ${p.failure.trial + 1} · ${p.failure.run}${p.failure.error ? ` · ${p.failure.error}` : ""}`);
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
    title: { text: sweepHeading(p), subtitle: [progressText(p), bestText(p)].filter(Boolean) },
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
