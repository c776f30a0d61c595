/**
 * The run card: status, name, elapsed time, metric summaries and charts, config and artifacts.
 * Used in cell outputs (the MIME renderer) and in the panel's Live and History views. A metric
 * with NaN or ±Infinity points says how many in its summary and marks them on its chart. `update` patches the
 * existing DOM and feeds charts new data, so a card that receives many updates keeps its
 * nodes, its open sections and its scroll position.
 */
import { formatBytes, formatDuration, formatNumber, isSystemMetric, nonFiniteText, provenanceText, type RunPayload, type RunStatus, type WireArtifact, type WireMetric } from "../protocol";
import { recordTiming, timingEnabled } from "../timing";
import { MetricChart } from "./chart";
import { badge, configText, h, setBadge, setText } from "./dom";
import { metricSummary, nonFiniteCount, seriesRows } from "./series";

/** How a card turns an artifact into something clickable; the host decides what opening means. */
export interface ArtifactHandler {
  /** Make `anchor` open `artifact` (path relative to the notebook's folder). */
  link(anchor: HTMLAnchorElement, artifact: WireArtifact): void;
  /** Show a preview of an image artifact in `img`, if the host can. */
  preview?(img: HTMLImageElement, artifact: WireArtifact): void;
}

/** How a card is drawn and what its artifacts do. */
export interface RunCardOptions {
  artifacts?: ArtifactHandler;
  /** Chart height in pixels. */
  chartHeight?: number;
  /** Open the config section by default. */
  configOpen?: boolean;
  /** Prefix of the names under which redraw times and update latency are recorded (benchmarks). */
  timingName?: string;
  /** Called when a person clicks where the run came from (`nb.ipynb [7]`): show that cell. */
  onOrigin?: (p: RunPayload) => void;
}

interface MetricSlot {
  box: HTMLElement;
  value: HTMLElement;
  range: HTMLElement;
  plot: HTMLElement;
  /** Made once the metric has two points: a single value needs no chart. */
  chart?: MetricChart;
  color: number;
}

/** A run card's DOM and charts. */
export class RunCard {
  readonly node: HTMLElement;

  constructor(options: RunCardOptions = {}) {
    this._options = options;
    this._status = badge("running");
    this._name = h("span", { class: "jp-labnote-card-name" });
    this._id = h("span", { class: "jp-labnote-card-id" });
    this._time = h("span", { class: "jp-labnote-card-time" });
    this._tags = h("span", { class: "jp-labnote-card-tags" });
    this._from = h("span", { class: "jp-labnote-card-from" });
    const onOrigin = options.onOrigin;
    if (onOrigin) {
      this._from.classList.add("jp-labnote-clickable");
      this._from.addEventListener("click", () => this._payload && this._payload.origin && onOrigin(this._payload));
    }
    this._error = h("pre", { class: "jp-labnote-card-error", hidden: "" });
    this._charts = h("div", { class: "jp-labnote-card-charts" });
    this._empty = h("div", { class: "jp-labnote-card-empty", text: "No metrics logged yet." });
    this._configCount = h("span", { class: "jp-labnote-count" });
    this._configBody = h("tbody");
    this._config = h("details", { class: "jp-labnote-section" }, [
      h("summary", {}, ["Config ", this._configCount]),
      h("table", { class: "jp-labnote-config" }, [this._configBody]),
    ]);
    if (options.configOpen) this._config.open = true;
    this._artifactCount = h("span", { class: "jp-labnote-count" });
    this._artifactList = h("ul", { class: "jp-labnote-artifacts" });
    this._artifacts = h("details", { class: "jp-labnote-section", open: "" }, [
      h("summary", {}, ["Artifacts ", this._artifactCount]),
      this._artifactList,
    ]);
    this.node = h("div", { class: "jp-labnote-card" }, [
      h("div", { class: "jp-labnote-card-header" }, [this._status, this._name, this._id, this._tags, this._from, h("span", { class: "jp-labnote-spacer" }), this._time]),
      this._error,
      this._empty,
      this._charts,
      h("div", { class: "jp-labnote-card-sections" }, [this._config, this._artifacts]),
    ]);
  }

  /** The payload last shown. */
  get payload(): RunPayload | undefined {
    return this._payload;
  }

  /** Show `p` (its status is the one every screen shows: the run registry and the died rule settle it). */
  update(p: RunPayload): void {
    if (timingEnabled && p !== this._payload) recordTiming(`${this._options.timingName ?? "card"}-latency`, Date.now() - p.sentAt);
    this._payload = p;
    const shown = p.status;
    this.node.dataset.status = shown;
    setBadge(this._status, shown);
    setText(this._name, p.name);
    setText(this._id, p.id);
    this._name.title = p.name;
    setText(this._tags, p.tags.length ? p.tags.join(" · ") : "");
    const from = provenanceText(p);
    setText(this._from, from);
    this._from.title = from ? `Started in ${p.origin ?? "a cell"}${p.rerunOf ? `; re-runs ${p.rerunOf}` : ""}${this._options.onOrigin && p.origin ? " (click: show the cell in the notebook)" : ""}` : "";
    this._updateTime(shown);
    if (p.error) {
      this._error.hidden = false;
      setText(this._error, p.error.message);
      this._error.title = p.error.stack ?? "";
    } else this._error.hidden = true;
    this._updateMetrics(p.metrics);
    const configKey = JSON.stringify(p.config);
    if (configKey !== this._configKey) {
      this._configKey = configKey;
      this._updateConfig(p);
    }
    this._updateArtifacts(p.artifacts);
    // Elapsed time of a running run ticks on its own between updates.
    if (shown === "running" && !this._tick) this._tick = window.setInterval(() => this._updateTime(this.node.dataset.status as RunStatus), 1000);
    if (shown !== "running" && this._tick) {
      clearInterval(this._tick);
      this._tick = 0;
    }
  }

  /** Finalize every chart (each Vega view) and stop timers. */
  dispose(): void {
    if (this._tick) clearInterval(this._tick);
    this._tick = 0;
    for (const slot of this._metrics.values()) slot.chart?.dispose();
    this._metrics.clear();
  }

  private _updateTime(status: RunStatus): void {
    const p = this._payload;
    if (!p) return;
    let ms: number;
    if (p.endTime !== undefined) ms = p.endTime - p.startTime;
    else if (status === "running") ms = p.sentAt - p.startTime + Math.max(0, Date.now() - this._receivedAt(p));
    else ms = p.sentAt - p.startTime;
    setText(this._time, formatDuration(ms));
  }

  /** When this payload arrived (kernel and browser clocks may differ, so elapsed time counts from arrival). */
  private _receivedAt(p: RunPayload): number {
    if (this._arrival.payload !== p) this._arrival = { payload: p, at: Date.now() };
    return this._arrival.at;
  }

  private _updateMetrics(metrics: WireMetric[]): void {
    this._empty.hidden = metrics.length > 0;
    const seen = new Set<string>();
    metrics.forEach((m, index) => {
      seen.add(m.name);
      let slot = this._metrics.get(m.name);
      if (!slot) {
        const title = h("span", { class: "jp-labnote-metric-name", text: m.name, title: m.name });
        const value = h("span", { class: "jp-labnote-metric-value" });
        const range = h("span", { class: "jp-labnote-metric-range" });
        const plot = h("div", { class: "jp-labnote-chart" });
        const box = h("div", { class: "jp-labnote-metric" }, [h("div", { class: "jp-labnote-metric-head" }, [title, value]), range, plot]);
        // The process's own samples (system/…) sit apart, below the user's metrics.
        if (isSystemMetric(m.name)) {
          box.classList.add("jp-labnote-metric-system");
          this._systemCharts().append(box);
        } else this._charts.append(box);
        slot = { box, value, range, plot, color: index };
        this._metrics.set(m.name, slot);
      }
      setText(slot.value, formatNumber(m.last));
      const single = m.count <= 1;
      slot.box.classList.toggle("jp-labnote-metric-single", single);
      setText(slot.range, metricSummary(m));
      const bad = nonFiniteCount(m);
      if (bad) {
        slot.box.dataset.nonfinite = String(bad);
        slot.range.title = `${nonFiniteText(m)}: marked in red on the chart`;
      } else if (slot.box.dataset.nonfinite) {
        delete slot.box.dataset.nonfinite;
        slot.range.title = "";
      }
      if (!single) {
        slot.chart ??= new MetricChart(slot.plot, { height: this._options.chartHeight ?? 110, color: slot.color, timingName: `${this._options.timingName ?? "card"}-chart-redraw` });
        slot.chart.setData(seriesRows(m.name, m.series));
      }
    });
    for (const [name, slot] of this._metrics) {
      if (seen.has(name)) continue;
      slot.chart?.dispose();
      slot.box.remove();
      this._metrics.delete(name);
    }
  }

  private _updateConfig(p: RunPayload): void {
    const modified = p.config.filter((e) => e.modified).length;
    const added = p.config.filter((e) => e.added).length;
    setText(this._configCount, `${p.config.length}${modified ? ` · ${modified} modified` : ""}${added ? ` · ${added} added` : ""}`);
    const rows = p.config.map((e) => {
      const cls = e.added ? "jp-labnote-added" : e.modified ? "jp-labnote-modified" : "";
      const value = configText(e.value);
      return h("tr", { class: cls, title: e.added ? "not in the experiment's defaults" : e.modified ? "differs from the default" : undefined }, [
        h("td", { class: "jp-labnote-config-key", text: e.key }),
        h("td", { class: "jp-labnote-config-value", text: value, title: value.length > 40 ? value : undefined }),
      ]);
    });
    this._configBody.replaceChildren(...rows);
  }

  private _updateArtifacts(list: WireArtifact[]): void {
    setText(this._artifactCount, String(list.length));
    this._artifacts.hidden = list.length === 0;
    const key = JSON.stringify(list.map((a) => [a.name, a.path, a.size]));
    if (key === this._artifactKey) return;
    this._artifactKey = key;
    const items = list.map((a) => {
      const link = h("a", { class: "jp-labnote-artifact-name", text: a.name, title: a.path, href: "#" });
      this._options.artifacts?.link(link, a);
      const item = h("li", { class: "jp-labnote-artifact" }, [
        link,
        h("span", { class: "jp-labnote-artifact-type", text: a.format || a.mediaType }),
        h("span", { class: "jp-labnote-artifact-size", text: formatBytes(a.size) }),
      ]);
      if (a.mediaType?.startsWith("image/") && this._options.artifacts?.preview) {
        const img = h("img", { class: "jp-labnote-artifact-preview", alt: a.name });
        this._options.artifacts.preview(img, a);
        item.append(img);
      }
      return item;
    });
    this._artifactList.replaceChildren(...items);
  }

  private _options: RunCardOptions;
  private _payload: RunPayload | undefined;
  private _arrival: { payload?: RunPayload; at: number } = { at: 0 };
  private _status: HTMLSpanElement;
  private _name: HTMLElement;
  private _from: HTMLElement;
  private _id: HTMLElement;
  private _time: HTMLElement;
  private _tags: HTMLElement;
  private _error: HTMLElement;
  private _charts: HTMLElement;
  private _system: HTMLElement | undefined;

  /** The "system" group of charts, made the first time a system metric arrives (after the user's charts). */
  private _systemCharts(): HTMLElement {
    if (!this._system) {
      this._system = h("div", { class: "jp-labnote-card-charts jp-labnote-card-system" });
      this._charts.after(h("div", { class: "jp-labnote-card-system-head", text: "system (sampled by the run's process)" }), this._system);
    }
    return this._system;
  }
  private _empty: HTMLElement;
  private _config: HTMLDetailsElement;
  private _configCount: HTMLElement;
  private _configBody: HTMLElement;
  private _artifacts: HTMLDetailsElement;
  private _artifactCount: HTMLElement;
  private _artifactList: HTMLElement;
  private _artifactKey = "";
  private _configKey = "";
  private _metrics = new Map<string, MetricSlot>();
  private _tick = 0;
}
