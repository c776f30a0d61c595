/**
 * The compare view: two or more ticked runs, their metrics overlaid (one chart per metric, one
 * colour per run), the config keys where they differ and, beside them, how their code differs.
 */
import type { ReadCode } from "../model/code";
import type { HistoryRun } from "../model/store";
import { diffCode } from "../protocol";
import { codeDiffNode } from "./code";
import { PALETTE } from "../theme";
import { MetricChart } from "./chart";
import { configDiff } from "./columns";
import { configText, h } from "./dom";
import type { ChartRow } from "./series";

/** One run's metrics as chart rows, for the compare view. */
export interface ComparedRun {
  run: HistoryRun;
  metrics: { name: string; rows: ChartRow[] }[];
}

/** Overlaid charts and a config diff of the ticked runs. */
export class CompareView {
  readonly node = h("div", { class: "jp-labnote-compare", hidden: "" });

  /** Show these runs (fewer than two hides the view), with their code when read (`codes[i]` is `series[i]`'s). */
  show(series: ComparedRun[], codes: readonly (ReadCode | undefined)[] = []): void {
    this._disposeCharts();
    if (series.length < 2) {
      this.node.hidden = true;
      this.node.textContent = "";
      return;
    }
    this.node.hidden = false;
    const label = (r: HistoryRun) => `#${r.record.number} ${r.record.name}`;
    const names = [...new Set(series.flatMap((s) => s.metrics.map((m) => m.name)))];
    const charts = h("div", { class: "jp-labnote-compare-charts" });
    const plots = names.map((name) => {
      const plot = h("div", { class: "jp-labnote-chart" });
      charts.append(h("div", { class: "jp-labnote-metric" }, [h("div", { class: "jp-labnote-metric-head" }, [h("span", { class: "jp-labnote-metric-name", text: name, title: name })]), plot]));
      return plot;
    });
    const labels = series.map((s) => label(s.run));
    const legend = h(
      "div",
      { class: "jp-labnote-legend" },
      labels.map((l, i) => h("span", { class: "jp-labnote-legend-item", title: l }, [h("span", { class: "jp-labnote-swatch", style: `background:${PALETTE[i % PALETTE.length]}` }), l])),
    );
    this.node.replaceChildren(
      h("div", { class: "jp-labnote-section-title", text: `Comparing ${series.length} runs` }),
      legend,
      names.length ? charts : h("div", { class: "jp-labnote-hint", text: "These runs logged no metrics." }),
      h("div", { class: "jp-labnote-compare-diffs" }, [this._diffTable(series.map((s) => s.run)), this._codeDiff(series.map((s) => s.run), codes)]),
    );
    // Charts are made once their hosts are in the page, so they start at the right width.
    names.forEach((name, i) => {
      const chart = new MetricChart(plots[i], { height: 130, runs: labels, timingName: "compare-chart-redraw" });
      chart.setData(series.flatMap((s) => (s.metrics.find((m) => m.name === name)?.rows ?? []).map((row) => ({ ...row, run: label(s.run) }))));
      this._charts.push(chart);
    });
  }

  /** Finalize every chart. */
  dispose(): void {
    this._disposeCharts();
  }

  private _diffTable(runs: HistoryRun[]): HTMLElement {
    const { differing, same } = configDiff(runs);
    const title = h("div", { class: "jp-labnote-section-title", text: `Config diff · ${differing.length} differ · ${same} identical` });
    if (!differing.length) return h("div", {}, [title]);
    const head = h("tr", {}, [h("th", { text: "key" }), ...runs.map((r) => h("th", { text: `#${r.record.number}`, title: r.record.name }))]);
    const rows = differing.map((k) =>
      h("tr", {}, [
        h("td", { class: "jp-labnote-config-key", text: k }),
        ...runs.map((r) => {
          const v = r.config.get(k);
          return h("td", { class: v === undefined ? "jp-labnote-missing" : "", text: v === undefined ? "—" : configText(v) });
        }),
      ]),
    );
    return h("div", {}, [title, h("table", { class: "jp-labnote-table jp-labnote-diff" }, [h("thead", {}, [head]), h("tbody", {}, rows)])]);
  }

  private _codeDiff(runs: HistoryRun[], codes: readonly (ReadCode | undefined)[]): HTMLElement {
    const first = codes[0];
    if (!first) return h("div", { class: "jp-labnote-hint", text: codes.length ? "The first run's code could not be read." : "" });
    const diffs = runs.slice(1).flatMap((r, i) => {
      const code = codes[i + 1];
      return code ? [diffCode({ record: runs[0].record, code: first }, { record: r.record, code })] : [];
    });
    const byId = new Map(runs.map((r) => [r.id, `#${r.record.number}`]));
    return codeDiffNode(diffs, (id) => byId.get(id) ?? id);
  }

  private _disposeCharts(): void {
    for (const c of this._charts) c.dispose();
    this._charts = [];
  }

  private _charts: MetricChart[] = [];
}
