/** The run card: the run's payload and the fallbacks stock JupyterLab renders without labnote. */
import * as path from "node:path";
import { IncrementalBuckets, MIME, escapeHtml, provenanceText, formatDuration, formatNumber, fromWire, nonFiniteText, runPayload as buildPayload, type RunPayload, type WireSeries } from "../../protocol";
import type { RunView, SeriesView } from "../../core/events";

const buckets = new WeakMap<SeriesView, IncrementalBuckets>();

/** The incremental buckets of a live series (made on first use). */
function bucketsOf(series: SeriesView): IncrementalBuckets {
  let b = buckets.get(series);
  if (!b) buckets.set(series, (b = new IncrementalBuckets()));
  return b;
}

/** The whole bundle (all MIME types) stays under this many bytes, however long the run. */
export const MAX_BUNDLE_BYTES = 64 * 1024;

/** The run card's payload: what the run is now, with each metric reduced to `buckets` min/max buckets. */
export function runPayload(run: RunView, buckets: number): RunPayload {
  const cwd = process.cwd();
  const root = run.dir ? path.dirname(path.dirname(run.dir)) : "";
  return buildPayload(
    {
      record: run.record(),
      series: (name, n) => {
        const s = run.series(name)!;
        return bucketsOf(s).toWire(s, n);
      },
      runDir: run.dir ? path.relative(cwd, run.dir) : "",
      root: root ? path.relative(cwd, root) || "." : "",
      cwd,
      sentAt: Date.now(),
    },
    buckets,
  );
}

/**
 * The run card as a display bundle: labnote's MIME type plus vega-lite, HTML and text
 * fallbacks that stock JupyterLab renders. Series are downsampled until the whole bundle
 * fits {@link MAX_BUNDLE_BYTES}.
 */
export function runBundle(run: RunView): Record<string, unknown> {
  for (let buckets = 200; ; buckets = Math.floor(buckets / 2)) {
    const payload = runPayload(run, buckets);
    const bundle = {
      [MIME.run]: payload,
      "application/vnd.vegalite.v5+json": vegaSpec(payload),
      "text/html": runHtml(payload),
      "text/plain": runText(payload),
    };
    if (buckets <= 8 || JSON.stringify(bundle).length <= MAX_BUNDLE_BYTES) return bundle;
  }
}

function elapsed(p: RunPayload): number {
  return (p.endTime ?? p.sentAt) - p.startTime;
}

function vegaSpec(p: RunPayload): Record<string, unknown> {
  const values: { metric: string; step: number; min: number | null; max: number | null }[] = [];
  const finite = (x: number | string) => {
    const v = fromWire(x);
    return Number.isFinite(v) ? v : null;
  };
  for (const m of p.metrics) m.series.step.forEach((s, i) => values.push({ metric: m.name, step: s, min: finite(m.series.min[i]), max: finite(m.series.max[i]) }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `${p.id} · ${p.name} · ${p.status}`,
    data: { values },
    facet: { field: "metric", type: "nominal", columns: 3, title: null },
    spec: {
      width: 180,
      height: 90,
      layer: [
        { mark: { type: "area", opacity: 0.25 }, encoding: { x: { field: "step", type: "quantitative" }, y: { field: "min", type: "quantitative", title: null }, y2: { field: "max" } } },
        { mark: { type: "line", strokeWidth: 1.5 }, encoding: { x: { field: "step", type: "quantitative" }, y: { field: "max", type: "quantitative" } } },
      ],
    },
    resolve: { scale: { y: "independent", x: "independent" } },
  };
}

/** A sparkline as inline SVG (numbers only, so nothing from the run can inject markup). */
function sparkline(s: WireSeries, w = 120, h = 28): string {
  const xs = s.step;
  const lo = s.min.map(fromWire);
  const hi = s.max.map(fromWire);
  const ys = [...lo, ...hi].filter(Number.isFinite);
  if (xs.length === 0 || ys.length === 0) return "";
  const x0 = xs[0];
  const x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys) === y0 ? y0 + 1 : Math.max(...ys);
  const px = (x: number) => (((x - x0) / (x1 - x0)) * (w - 2) + 1).toFixed(1);
  const py = (y: number) => (h - 1 - ((y - y0) / (y1 - y0)) * (h - 2)).toFixed(1);
  const pts = xs.map((x, i) => (Number.isFinite(hi[i]) ? `${px(x)},${py((hi[i] + (Number.isFinite(lo[i]) ? lo[i] : hi[i])) / 2)}` : "")).filter(Boolean);
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" style="vertical-align:middle"><polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${pts.join(" ")}"/></svg>`;
}

const STATUS_COLOR: Record<string, string> = { running: "#1a73e8", completed: "#188038", failed: "#d93025", interrupted: "#e37400", died: "#5f6368" };

/** The HTML fallback: a self-contained card, every string from the run escaped. */
export function runHtml(p: RunPayload): string {
  const e = escapeHtml;
  const badge = `<span style="background:${STATUS_COLOR[p.status] ?? "#5f6368"};color:#fff;border-radius:8px;padding:1px 8px;font-size:11px">${e(p.status)}</span>`;
  const rows = p.metrics
    .map((m) => `<tr><td>${e(m.name)}</td><td style="text-align:right">${e(formatNumber(m.last))}</td><td style="text-align:right">${e(formatNumber(m.min))}</td><td style="text-align:right">${e(formatNumber(m.max))}</td><td style="text-align:right">${m.count}</td><td style="color:#d93025">${e(nonFiniteText(m))}</td><td>${sparkline(m.series)}</td></tr>`)
    .join("");
  const cfg = p.config
    .slice(0, 30)
    .map((c) => `<tr><td>${c.modified ? "<b>" : ""}${e(c.key)}${c.modified ? "</b>" : ""}${c.added ? " <i>(added)</i>" : ""}</td><td><code>${e(c.value)}</code></td></tr>`)
    .join("");
  const arts = p.artifacts.map((a) => `<li>${e(a.name)} <small>(${e(a.format)}, ${a.size} B)</small></li>`).join("");
  const from = provenanceText(p);
  const err = p.error ? `<pre style="color:#d93025;white-space:pre-wrap">${e(p.error.message)}</pre>` : "";
  return (
    `<div class="labnote-card" style="font-family:system-ui,sans-serif;font-size:12px;border:1px solid #ccc;border-radius:6px;padding:8px;max-width:760px">` +
    `<div><b>${e(p.id)}</b> · ${e(p.name)} ${badge} <span style="color:#666">${e(formatDuration(elapsed(p)))}</span>${p.tags.length ? ` <span style="color:#666">[${e(p.tags.join(", "))}]</span>` : ""}${from ? ` <span class="labnote-card-from" style="color:#666">${e(from)}</span>` : ""}</div>` +
    err +
    (rows ? `<table style="margin-top:6px"><tr><th style="text-align:left">metric</th><th>last</th><th>min</th><th>max</th><th>points</th><th>non-finite</th><th></th></tr>${rows}</table>` : "") +
    (cfg ? `<details style="margin-top:6px"><summary>config</summary><table>${cfg}</table></details>` : "") +
    (arts ? `<details style="margin-top:6px"><summary>artifacts (${p.artifacts.length})</summary><ul>${arts}</ul></details>` : "") +
    `</div>`
  );
}

/** The plain-text fallback. */
export function runText(p: RunPayload): string {
  const lines = [`labnote run ${p.id} "${p.name}" ${p.status} (${formatDuration(elapsed(p))})`];
  const from = provenanceText(p);
  if (from) lines.push(`  from: ${from}`);
  if (p.error) lines.push(`  error: ${p.error.message}`);
  for (const m of p.metrics) {
    const bad = nonFiniteText(m);
    lines.push(`  ${m.name}: last ${formatNumber(m.last)}, min ${formatNumber(m.min)}, max ${formatNumber(m.max)} (${m.count} points${bad ? `, ${bad}` : ""})`);
  }
  const mod = p.config.filter((c) => c.modified);
  if (mod.length) lines.push(`  modified config: ${mod.map((c) => `${c.key}=${c.value}`).join(", ")}`);
  if (p.artifacts.length) lines.push(`  artifacts: ${p.artifacts.map((a) => a.name).join(", ")}`);
  return lines.join("\n");
}
