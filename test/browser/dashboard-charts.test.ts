/**
 * The dashboard's charts, scatter and run detail in a real JupyterLab, driven through Chromium,
 * over runs the library itself wrote (metric summaries, artifacts, env.json, output.log): three
 * selected runs overlaid with smoothing, by step and by time since start, on a log axis that
 * says what it left out; a scatter whose points name their run and select it; a run's detail
 * with its config marked, its metrics, an image, a CSV table and a 2-D .npy heatmap, its host
 * and its output. Screenshots in the light and the dark theme go to screenshots/.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { assertArtifactPreviews, chartPixels, chartsDrawn, countText, D, runScript } from "./dashboard-helpers";
import { writeRuns } from "./fixtures";
import { command, repo, setTheme, useLab } from "./lab";

const SHOTS = path.join(repo, "screenshots");

/**
 * Five runs of experiment "charts" written by the library in a process of its own: a noisy
 * loss (3,000 points over ~1.5 s), an accuracy, a margin that starts below zero, artifacts (a
 * PNG, a CSV of 250 rows, a JSON, a 24 × 32 float64 .npy) and printed output.
 */
function writeChartRuns(root: string): void {
  runScript(`
      const root = ${JSON.stringify(path.join(root, "experiments"))};
      const exp = await experiment("charts", { root, capture: { sources: false, dependencies: false, lineage: false }, config: { lr: 0.01, optimizer: { name: "adam", momentum: 0.9 }, hidden: 64, epochs: 10 } });
      const lrs = [0.1, 0.03, 0.01, 0.003, 0.001];
      let seed = 11;
      const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5);
      for (let k = 0; k < lrs.length; k++) {
        const run = await exp.start({ name: ["baseline", "wide", "adam-fast", "sgd-slow", "tiny-lr"][k], config: { lr: lrs[k], hidden: k % 2 ? 128 : 64, "optimizer.name": k === 3 ? "sgd" : "adam", dropout: 0.1 * k }, tags: k < 2 ? ["v1"] : ["v2"] });
        const rate = 300 + 2500 * k;
        for (let b = 0; b < 30; b++) {
          for (let i = b * 100; i < (b + 1) * 100; i++) {
            run.log("loss", 2.2 * Math.exp(-i / rate) + 0.08 + 0.12 * noise());
            run.log("margin", -0.6 + 1.6 * (1 - Math.exp(-i / (rate / 2))) + 0.05 * noise());
          }
          run.log("accuracy", Math.min(0.99, 0.3 + 0.6 * (1 - Math.exp(-(b * 100) / rate)) + 0.02 * noise()), b * 100);
          await sleep(40 + 10 * k);
        }
        console.log("epoch 10/10 loss " + (0.08 + k / 100).toFixed(3) + " for lr " + lrs[k]);
        if (k === 2) await saveArtifacts(run, path.join(root, ".."));
        await run.end();
      }`);
}

describe("the dashboard's charts, scatter and run detail", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1500, height: 1000 } } });

  before(async () => {
    writeChartRuns(ui.lab.root);
    writeRuns(ui.lab.root, "grid", 40);
    mkdirSync(SHOTS, { recursive: true });
    await ui.page.goto(`${ui.lab.url}/lab`);
    await ui.page.waitForFunction(() => (window as any).jupyterapp?.commands?.hasCommand("labnote-jupyterlab:open-dashboard"), undefined, { timeout: 120_000 });
    await command(ui.page, "labnote-jupyterlab:open-dashboard");
    await ui.page.waitForFunction(() => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === "45", undefined, { timeout: 120_000 });
    await ui.page.selectOption(`${D} .jp-labnote-toolbar select.jp-labnote-select >> nth=0`, "charts");
    await ui.page.waitForFunction(() => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === "5", undefined, { timeout: 60_000 });
  });

  it("overlays the selected runs' metrics, one chart per metric under one legend, and smooths them", async () => {
    const boxes = ui.page.locator(`${D} tbody tr[data-id] input[type=checkbox]`);
    for (const i of [0, 2, 4]) await boxes.nth(i).click();
    assert.match(await countText(ui.page), /· 3 selected/);
    await ui.page.waitForFunction(() => /Comparing 3 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-dashboard-charts")?.textContent ?? ""), undefined, { timeout: 30_000 });
    await chartsDrawn(ui.page);
    const metrics = await ui.page.locator(`${D} .jp-labnote-dashboard-charts .jp-labnote-metric`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.metric));
    // The runs' own system samples (system/cpu, system/rss_mb) are folded apart from the user's metrics.
    assert.deepEqual([...metrics].filter((m) => !m?.startsWith("system/")).sort(), ["accuracy", "loss", "margin"]);
    const folded = await ui.page.locator(`${D} .jp-labnote-dashboard-charts details.jp-labnote-dashboard-system .jp-labnote-metric`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.metric));
    assert.deepEqual([...folded].sort(), [...metrics].filter((m) => m?.startsWith("system/")).sort());
    assert.equal(await ui.page.locator(`${D} .jp-labnote-dashboard-charts details.jp-labnote-dashboard-system`).evaluate((d) => (d as HTMLDetailsElement).open), false);
    const legend = await ui.page.locator(`${D} .jp-labnote-dashboard-charts .jp-labnote-legend-item`).allInnerTexts();
    assert.deepEqual(legend.map((t) => t.replace(/^charts\/\d+ /, "")).sort(), ["adam-fast", "baseline", "tiny-lr"].sort());
    const raw = await chartPixels(ui.page, "loss");
    await ui.page.locator(`${D} .jp-labnote-charts-smoothing`).fill("0.9");
    assert.equal(await ui.page.locator(`${D} .jp-labnote-charts-smoothing-value`).innerText(), "0.90");
    await ui.page.waitForTimeout(700);
    const smooth = await chartPixels(ui.page, "loss");
    assert.ok(!raw.equals(smooth), "smoothing changed nothing on the loss chart");
    // The config keys where the three runs differ are listed under the charts.
    assert.match(await ui.page.locator(`${D} .jp-labnote-dashboard-charts`).innerText(), /Config diff · \d+ differ/);
    await ui.page.locator(`${D} .jp-labnote-dashboard-compare`).evaluate((el) => el.scrollIntoView());
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-charts-smoothed-light.png") });
  });

  it("draws by time since start, and on a log axis leaves out values ≤ 0 and says so", async () => {
    const before = await chartPixels(ui.page, "loss");
    await ui.page.selectOption(`${D} .jp-labnote-charts-x`, "elapsed");
    await chartsDrawn(ui.page);
    const elapsed = await chartPixels(ui.page, "loss");
    assert.ok(!before.equals(elapsed), "the time axis drew the same picture as the step axis");
    await ui.page.check(`${D} .jp-labnote-charts-log`);
    await chartsDrawn(ui.page);
    const note = ui.page.locator(`${D} .jp-labnote-metric[data-metric="margin"] .jp-labnote-chart-note`);
    await note.waitFor({ state: "visible" });
    assert.match(await note.innerText(), /^\d+ buckets? with values ≤ 0 left out \(log scale\)$/);
    assert.equal(await ui.page.locator(`${D} .jp-labnote-metric[data-metric="loss"] .jp-labnote-chart-note`).isVisible(), false, "loss is positive: nothing left out");
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-charts-log-light.png") });
    await ui.page.uncheck(`${D} .jp-labnote-charts-log`);
    await ui.page.selectOption(`${D} .jp-labnote-charts-x`, "step");
    await chartsDrawn(ui.page);
  });

  it("scatters a config key against a metric summary: a point names its run, a click selects it", async () => {
    await ui.page.click(`${D} .jp-labnote-dashboard-tab[data-tab=scatter]`);
    await ui.page.selectOption(`${D} .jp-labnote-scatter-key`, "lr");
    await ui.page.selectOption(`${D} .jp-labnote-scatter-metric`, "loss");
    await ui.page.selectOption(`${D} .jp-labnote-scatter-stat`, "min");
    await ui.page.check(`${D} .jp-labnote-scatter-logx`);
    const points = ui.page.locator(`${D} .jp-labnote-scatter .mark-symbol path`);
    await ui.page.waitForFunction(() => document.querySelectorAll("#labnote-dashboard .jp-labnote-scatter .mark-symbol path").length === 5, undefined, { timeout: 30_000 });
    assert.match(await ui.page.locator(`${D} .jp-labnote-scatter-note`).innerText(), /^5 runs/);
    // The unselected run with lr 0.03 ("wide", charts/2): find its point by hovering each.
    let found = -1;
    for (let i = 0; i < 5 && found < 0; i++) {
      await points.nth(i).hover({ force: true });
      const tip = ui.page.locator("#vg-tooltip-element");
      await tip.waitFor({ state: "visible", timeout: 5000 });
      if (/charts\/2/.test(await tip.innerText())) found = i;
    }
    assert.ok(found >= 0, "no point named charts/2");
    assert.match(await ui.page.locator("#vg-tooltip-element").innerText(), /wide/);
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-scatter-light.png") });
    await points.nth(found).click({ force: true });
    await ui.page.waitForFunction(() => /· 4 selected/.test(document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent ?? ""), undefined, { timeout: 10_000 });
    assert.equal(await ui.page.locator(`${D} tbody tr[data-id="charts/2"] input[type=checkbox]`).isChecked(), true);
  });

  it("opens a run's detail from its name: marked config, metrics, an image, a CSV table, a 2-D .npy heatmap, host and output", async () => {
    await ui.page.click(`${D} tbody tr[data-id="charts/3"] td[data-open]`);
    const detail = ui.page.locator(`${D} .jp-labnote-dashboard-detail`);
    await detail.waitFor({ state: "visible" });
    assert.match(await detail.locator(".jp-labnote-detail-head").innerText(), /adam-fast[\s\S]*charts\/3/);
    const config = await detail.locator(".jp-labnote-detail-config tr").allInnerTexts();
    assert.ok(config.some((t) => /^lr\s+0\.01$/.test(t.trim())), `lr 0.01 is the default, so not modified: ${config.join(" | ")}`);
    assert.ok(config.some((t) => /^hidden\s+64/.test(t.trim()) && !/modified/.test(t)), config.join(" | "));
    assert.ok(config.some((t) => /^dropout\s+0\.2\s+added$/.test(t.trim())), config.join(" | "));
    // The user's metrics, then the process's own samples (system/…, when the sampler had ticked) after them.
    const rows = await detail.locator(".jp-labnote-detail-metrics tbody tr").evaluateAll((trs) => trs.map((tr) => ({ name: (tr as HTMLElement).innerText.split("\t")[0], system: tr.classList.contains("jp-labnote-system-metric") })));
    assert.deepEqual(rows.filter((r) => !r.system).map((r) => r.name).sort(), ["accuracy", "loss", "margin"]);
    assert.ok(rows.every((r) => r.system === r.name.startsWith("system/")), JSON.stringify(rows));
    const firstSystem = rows.findIndex((r) => r.system);
    assert.ok(firstSystem < 0 || rows.slice(firstSystem).every((r) => r.system), `system metrics come last: ${JSON.stringify(rows)}`);
    const metrics = await detail.locator(".jp-labnote-detail-metrics tbody tr").allInnerTexts();
    assert.ok(metrics.some((t) => /^loss\t[\d.]+\t[\d.]+\t[\d.]+\t3000\t2999/.test(t)), metrics.join(" | "));
    await assertArtifactPreviews(ui.page);
    // Host facts and the output log's tail.
    await detail.locator(".jp-labnote-detail-kv").first().waitFor();
    assert.match(await detail.locator(".jp-labnote-detail-env").innerText(), /host\s+\S+[\s\S]*node\s+v\d+/);
    await detail.locator(".jp-labnote-detail-log").waitFor();
    assert.match(await detail.locator(".jp-labnote-detail-log").innerText(), /epoch 10\/10 loss 0\.100 for lr 0\.01/);
    // Its code: these runs came from a script, so no cell ran while they were open (the panel's code view says so).
    const code = detail.locator('[data-slot="run-code"] .jp-labnote-code');
    await code.waitFor({ state: "visible", timeout: 20_000 });
    await ui.page.waitForFunction(() => /started from a script/.test(document.querySelector('#labnote-dashboard [data-slot="run-code"]')?.textContent ?? ""), undefined, { timeout: 20_000 });
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-detail-light.png") });
    await detail.locator(".jp-labnote-detail-artifacts").scrollIntoViewIfNeeded();
    await detail.locator('.jp-labnote-detail-artifact[data-kind="csv"]').scrollIntoViewIfNeeded();
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-detail-artifacts-light.png") });
  });

  it("looks right in the dark theme: charts, scatter and the run detail", async () => {
    await setTheme(ui.page, "dark");
    await ui.page.waitForTimeout(1200);
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-detail-artifacts-dark.png") });
    await ui.page.keyboard.press("Escape");
    await ui.page.locator(`${D} .jp-labnote-dashboard-detail`).waitFor({ state: "hidden" });
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-scatter-dark.png") });
    await ui.page.click(`${D} .jp-labnote-dashboard-tab[data-tab=charts]`);
    await chartsDrawn(ui.page);
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-charts-smoothed-dark.png") });
    await ui.page.click(`${D} tbody tr[data-id="charts/3"] td[data-open]`);
    await ui.page.locator(`${D} .jp-labnote-dashboard-detail .jp-labnote-detail-kv`).first().waitFor();
    await ui.page.waitForTimeout(500);
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-detail-dark.png") });
    await setTheme(ui.page, "light");
  });
});
