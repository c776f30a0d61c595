/**
 * The Experiments dashboard as a person meets it, in a real JupyterLab with the real tslab
 * kernel, through Chromium: 200 runs across two experiments, 100 made by a notebook cell run in
 * the page and 100 by a plain Node script; the dashboard opened by typing in the command
 * palette; sort, group, query, the column chooser, parallel-coordinates brushing that filters
 * the table; three runs overlaid and smoothed; a note written while the kernel logs into that
 * very run (both survive); a live run updating within a second; delete and restore; the
 * previews of an image, a CSV and a 2-D .npy; the toolbar on one line at 1,280 px. Screenshots
 * in the light and the dark theme go to screenshots/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { ANNOTATIONS_FILE, TRASH_DIR, parseAnnotations } from "../../src/protocol/index";
import { assertArtifactPreviews, cell, chartPixels, chartsDrawn, countText, D, displayLatency, groupHeadings, runScript, scriptRun, TABLE, waitCellText, waitCount, waitFile } from "./dashboard-helpers";
import { NAME_HELPER_SCRIPT, openNotebook, repo, setTheme, useLab, waitCellsRan, writeNotebook } from "./lab";

const SHOTS = path.join(repo, "screenshots");
const LRS = [0.1, 0.03, 0.01, 0.003, 0.001];

/** The notebook's first cell: 100 runs of experiment "notebook" in a loop; the second: one run logging for ~25 s. */
const CELLS = [
  [
    'import { experiment } from "labnote";',
    'const exp = await experiment("notebook", { capture: false, config: { lr: 0.01, hidden: 64, optimizer: "adam" } });',
    "for (let i = 0; i < 100; i++) {",
    `  const lr = ${JSON.stringify(LRS)}[i % 5], hidden = [16, 32, 64, 128][i % 4];`,
    '  const run = await exp.start({ name: `nb-${i}`, widgets: false, config: { lr, hidden, optimizer: i % 3 ? "adam" : "sgd" }, tags: [i % 2 ? "odd" : "even"] });',
    "  for (let s = 0; s < 30; s++) run.log(\"loss\", 2 * Math.exp(-s * lr * 3) * (64 / hidden) ** 0.3 + 0.01 * ((i * 7 + s) % 5));",
    "  for (let s = 0; s < 30; s += 5) run.log(\"accuracy\", (1 - 1 / (2 + 100 * lr)) * (1 - Math.exp(-(s + 5) / 10)), s);",
    "  await run.end();",
    "}",
  ].join("\n"),
  [
    'const live = await exp.start({ name: "live", tags: ["from-kernel"] });',
    'for (let i = 0; i < 250; i++) { live.log("loss", 1 / (i + 1)); await new Promise((r) => setTimeout(r, 100)); }',
    "await live.end();",
  ].join("\n"),
];

/** The script: 100 runs of experiment "script", the first with an image, a CSV, a 2-D .npy and a JSON. */
function scriptRuns(root: string): void {
  runScript(`
      const exp = await experiment("script", { root: ${JSON.stringify(path.join(root, "experiments"))}, capture: false, config: { lr: 0.01, batch: 32, optimizer: "adam" } });
      for (let i = 0; i < 100; i++) {
        const lr = ${JSON.stringify(LRS)}[i % 5];
        const run = await exp.start({ name: "script-" + i, config: { lr, batch: [32, 64][i % 2], optimizer: i % 4 ? "adam" : "sgd" } });
        // Runs of one lr still learn at rates of their own, so three of them chart apart.
        const rate = lr * 2 * (1 + (i % 7) / 3);
        for (let s = 0; s < 30; s++) run.log("loss", 1.5 * Math.exp(-s * rate) + 0.02 * (i % 3) + 0.01 * (1 + Math.sin(s + i)));
        for (let s = 0; s < 30; s += 5) run.log("accuracy", (1 - 1 / (3 + 80 * lr)) * (1 - Math.exp(-(s + 5) / 8)), s);
        if (i === 0) { console.log("training with artifacts"); await saveArtifacts(run, ${JSON.stringify(root)}); }
        await run.end();
      }`);
}

/** Every run's last loss, read from its run.json on disk, by id. */
function lastLosses(store: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const exp of ["notebook", "script"])
    for (const n of readdirSync(path.join(store, exp)).filter((f) => /^\d+$/.test(f))) {
      const rec = JSON.parse(readFileSync(path.join(store, exp, n, "run.json"), "utf8"));
      out.set(rec.id, rec.metrics.loss.last);
    }
  return out;
}

/** Run the notebook's cell `index` from the page (select it, Ctrl+Enter: run it, add no cell) and, unless told not to, wait until it has run. */
async function runCell(page: Page, index: number, wait = true): Promise<void> {
  await page.evaluate(() => (window as any).jupyterapp.shell.activateById((window as any).jupyterapp.shell.widgets("main").next().value.id));
  const cellNode = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index);
  await cellNode.locator(".jp-InputPrompt").click();
  await page.keyboard.press("Control+Enter");
  if (!wait) return;
  await page.waitForFunction((i) => {
    const w = (window as any).jupyterapp.shell.currentWidget;
    const c = w?.content?.widgets?.[i];
    return c && c.model.executionCount !== null && w.sessionContext.kernelDisplayStatus === "idle";
  }, index, { timeout: 240_000, polling: 250 });
}

/** The visible rows' values of a column, top to bottom. */
async function columnTexts(page: Page, col: string): Promise<string[]> {
  return page.locator(`${TABLE} tbody tr[data-id] td[data-col="${col}"]`).allInnerTexts();
}

describe("a tour of the experiments dashboard", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1440, height: 960 } }, initScripts: [NAME_HELPER_SCRIPT] });
  let page: Page;
  let store: string;

  before(async () => {
    const lab = ui.lab;
    page = ui.page;
    store = path.join(lab.root, "experiments");
    writeNotebook(path.join(lab.root, "tour.ipynb"), CELLS);
    mkdirSync(SHOTS, { recursive: true });
    // JupyterLab's debugger says it has no session when a notebook opens: not ours.
    page.on("pageerror", (e) => {
      if (!/No active debugger session/.test(e.message)) console.error(`page error: ${e.message}`);
    });
    page.on("console", (m) => {
      // A 404 is how the contents API answers for a file that is not there yet (annotations, sweeps).
      if (m.type() === "error" && !/status of 404/.test(m.text())) console.error(`page console: ${m.text()}`);
    });
    await openNotebook(page, lab, "tour.ipynb");
    await runCell(page, 0);
    scriptRuns(lab.root);
  });

  it("opens from the command palette with the 200 runs of the notebook and the script", async () => {
    await page.keyboard.press("Control+Shift+C");
    const input = page.locator(".lm-CommandPalette-input");
    await input.waitFor({ state: "visible" });
    await input.pressSequentially("open experiments dash", { delay: 20 });
    await page.locator(".lm-CommandPalette-item.lm-mod-active", { hasText: "Open experiments dashboard" }).waitFor();
    await page.keyboard.press("Enter");
    await waitCount(page, 200, 120_000);
    assert.match(await countText(page), /^200 of 200 runs/);
    assert.match(await page.locator(`${D} .jp-labnote-toolbar select.jp-labnote-select >> nth=0`).innerText(), /All experiments \(2\)/);
  });

  it("sorts by a metric both ways, groups by a config key with counts and the best value, and queries", async () => {
    await page.locator(`${TABLE} thead th[data-col="metric:loss.last"]`).click();
    const up = (await columnTexts(page, "metric:loss.last")).map(Number);
    assert.ok(up.length > 10 && up.every((v, i) => i === 0 || up[i - 1] <= v), `ascending: ${up.join(", ")}`);
    await page.locator(`${TABLE} thead th[data-col="metric:loss.last"]`).click();
    const down = (await columnTexts(page, "metric:loss.last")).map(Number);
    assert.ok(down.every((v, i) => i === 0 || down[i - 1] >= v), `descending: ${down.join(", ")}`);
    assert.ok(down[0] > up[0]);
    await page.selectOption(`${D} select.jp-labnote-dashboard-group`, "config:optimizer");
    await page.selectOption(`${D} select.jp-labnote-dashboard-best`, "min:loss");
    const groups = await groupHeadings(page);
    // adam: 66 notebook runs (i % 3 ≠ 0) and 75 script runs (i % 4 ≠ 0); sgd the rest.
    assert.deepEqual(groups.map((g) => g.replace(/ · lowest.*/, "")).sort(), ["optimizer=adam · 141 runs", "optimizer=sgd · 59 runs"]);
    assert.ok(groups.every((g) => /lowest loss [\d.e-]+ \((notebook|script)\/\d+\)$/.test(g)), groups.join(" | "));
    await page.selectOption(`${D} select.jp-labnote-dashboard-group`, "");
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("lr<0.01 experiment=script");
    await waitCount(page, 40);
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("lr<0.01 experiment=script optimizer=sgd");
    await waitCount(page, 10);
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("tag:odd hidden=128");
    await waitCount(page, 25);
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("lr<");
    assert.match(await page.locator(`${D} .jp-labnote-filter-note`).innerText(), /needs a value after it at column 3/);
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("");
    await waitCount(page, 200);
  });

  it("chooses columns: a hidden column goes, a chosen metric summary comes", async () => {
    await page.locator(`${D} .jp-labnote-toolbar button`, { hasText: "Columns" }).click();
    const chooser = page.locator(`${D} .jp-labnote-dashboard-chooser`);
    await chooser.waitFor({ state: "visible" });
    await chooser.locator('input[data-col="tags"]').uncheck();
    await chooser.locator('input[data-col="metric:loss.min"]').check();
    assert.equal(await page.locator(`${TABLE} thead th[data-col="tags"]`).count(), 0);
    assert.equal(await page.locator(`${TABLE} thead th[data-col="metric:loss.min"]`).count(), 1);
    assert.ok((await columnTexts(page, "metric:loss.min")).every((t) => /^[\d.e-]+$/.test(t)));
    await chooser.locator('input[data-col="tags"]').check();
    await chooser.locator('input[data-col="metric:loss.min"]').uncheck();
    await page.locator(`${D} .jp-labnote-toolbar button`, { hasText: "Columns" }).click();
    await chooser.waitFor({ state: "hidden" });
  });

  it("filters the table by brushing an axis of the parallel coordinates", async () => {
    await page.locator(`${D} .jp-labnote-parallel-toggle`).click();
    const parallel = page.locator(`${D} .jp-labnote-parallel`);
    await parallel.waitFor({ state: "visible" });
    await page.selectOption(`${D} .jp-labnote-parallel-metric`, "loss");
    const canvas = parallel.locator("canvas");
    const box = (await canvas.boundingBox())!;
    // The last axis (loss) stands PAD_X = 60 px from the right; its values run from y 28 (max) to 238 (min).
    const x = box.x + box.width - 60;
    const [yTop, yEnd] = [40, 133];
    await page.mouse.move(x, box.y + yTop);
    await page.mouse.down();
    await page.mouse.move(x, box.y + yEnd, { steps: 6 });
    await page.mouse.up();
    const losses = lastLosses(store);
    const values = [...losses.values()];
    const [min, max] = [Math.min(...values), Math.max(...values)];
    const at = (y: number) => min + (1 - (y - 28) / 210) * (max - min);
    const inside = [...losses].filter(([, v]) => v >= at(yEnd) && v <= at(yTop)).map(([id]) => id);
    assert.ok(inside.length > 5 && inside.length < 150, `${inside.length} runs inside the brush`);
    await waitCount(page, inside.length);
    assert.match(await parallel.innerText(), new RegExp(`${inside.length} of 200 runs inside the brushes`));
    const shown = await page.locator(`${TABLE} tbody tr[data-id]`).evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id!));
    assert.ok(shown.length > 0 && shown.every((id) => inside.includes(id)), `shown outside the brush: ${shown.filter((id) => !inside.includes(id)).join(", ")}`);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-tour-parallel-light.png") });
    await parallel.locator("button", { hasText: "Clear brushes" }).click();
    await waitCount(page, 200);
    await page.locator(`${D} .jp-labnote-parallel-toggle`).click();
    await parallel.waitFor({ state: "hidden" });
  });

  it("overlays three selected runs' metrics and smooths them", async () => {
    await page.locator(`${TABLE} thead th[data-col="metric:loss.last"]`).click();
    const boxes = page.locator(`${TABLE} tbody tr[data-id] input[type=checkbox]`);
    for (const i of [0, 3, 6]) await boxes.nth(i).click();
    assert.match(await countText(page), /· 3 selected/);
    await page.waitForFunction(() => /Comparing 3 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-dashboard-charts")?.textContent ?? ""), undefined, { timeout: 30_000 });
    await chartsDrawn(page, 2);
    assert.equal(await page.locator(`${D} .jp-labnote-dashboard-charts .jp-labnote-legend-item`).count(), 3);
    const raw = await chartPixels(page, "loss");
    await page.locator(`${D} .jp-labnote-charts-smoothing`).fill("0.8");
    await page.waitForTimeout(700);
    assert.ok(!raw.equals(await chartPixels(page, "loss")), "smoothing changed nothing on the loss chart");
    await page.locator(`${D} .jp-labnote-dashboard-compare`).evaluate((el) => el.scrollIntoView());
    await page.screenshot({ path: path.join(SHOTS, "dashboard-tour-light.png") });
    await setTheme(page, "dark");
    await chartsDrawn(page, 2);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-tour-dark.png") });
    await setTheme(page, "light");
    for (const i of [0, 3, 6]) await boxes.nth(i).click();
  });

  it("keeps a note written while the kernel logs into that run, shows it at once, and updates the live run within a second", async () => {
    await runCell(page, 1, false);
    const runDir = path.join(store, "notebook", "101");
    await waitFile(path.join(runDir, "run.json"));
    await page.evaluate(() => (window as any).jupyterapp.shell.activateById("labnote-dashboard"));
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("name=live");
    await waitCount(page, 1);
    await waitCellText(page, "notebook/101", "status", "running");
    const lat = (await displayLatency(page, runDir, "notebook/101", 5)).sort((a, b) => a - b);
    assert.ok(lat[2] < 1000, `shown ${lat.join(", ")} ms after the summary was written (median ≥ 1 s)`);
    await cell(page, "notebook/101", "tags").click();
    const editor = page.locator(`${D} .jp-labnote-dashboard-annotate`);
    await editor.waitFor({ state: "visible" });
    await editor.locator(".jp-labnote-annotate-tags").fill("keep");
    await editor.locator(".jp-labnote-annotate-notes").fill("Written while the kernel logs.");
    // Every text the tags cell shows from Save on: the saved value at once, never the old one after it.
    await page.evaluate((sel) => {
      const seen: string[] = ((window as any).__tags = []);
      const table = document.querySelector(sel)!;
      const look = () => {
        const t = table.querySelector('tr[data-id="notebook/101"] td[data-col="tags"]')?.textContent ?? "(none)";
        if (seen[seen.length - 1] !== t) seen.push(t);
      };
      new MutationObserver(look).observe(table, { subtree: true, childList: true, characterData: true });
    }, TABLE);
    await editor.locator(".jp-labnote-annotate-save").click();
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "saved", `${D} .jp-labnote-annotate-state`);
    assert.equal(await cell(page, "notebook/101", "tags").innerText(), "from-kernel, keep", "the saved tags show with 'saved'");
    await page.waitForTimeout(2500);
    const seen: string[] = await page.evaluate(() => (window as any).__tags);
    assert.deepEqual(seen.slice(seen.indexOf("from-kernel, keep")), ["from-kernel, keep"], `the tags cell showed ${seen.join(" → ")}`);
    assert.equal(JSON.parse(readFileSync(path.join(runDir, "run.json"), "utf8")).status, "running", "the note was written while the run was running");
    await waitCellText(page, "notebook/101", "status", "completed", 120_000);
    await page.evaluate(() => (window as any).jupyterapp.shell.activateById((window as any).jupyterapp.shell.widgets("main").next().value.id));
    await waitCellsRan(page, 60_000);
    await page.evaluate(() => (window as any).jupyterapp.shell.activateById("labnote-dashboard"));
    const rec = JSON.parse(readFileSync(path.join(runDir, "run.json"), "utf8"));
    assert.equal(rec.metrics.loss.count, 250, "the kernel's last record");
    assert.deepEqual(rec.tags, ["from-kernel"], "run.json is never rewritten by the browser");
    const a = parseAnnotations(readFileSync(path.join(runDir, ANNOTATIONS_FILE), "utf8"));
    assert.ok(a.ok);
    assert.equal(a.value.notes, "Written while the kernel logs.");
    assert.deepEqual(a.value.tags, ["keep"]);
    assert.equal(await cell(page, "notebook/101", "notes").innerText(), "Written while the kernel logs.");
    await editor.locator('button:has-text("Close")').click();
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("");
    await waitCount(page, 201);
  });

  it("deletes a run and restores it; refusing a running run says so until it ends", async () => {
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("experiment=script");
    await waitCount(page, 100);
    await page.locator(`${TABLE} tbody tr[data-id] input[type=checkbox]`).first().click();
    const victim = (await page.locator(`${TABLE} tbody tr[data-id]`).first().getAttribute("data-id"))!;
    await page.locator(`${D} .jp-labnote-delete-button`).click();
    await waitCount(page, 99);
    assert.match(await page.locator(`${D} .jp-labnote-dashboard-notice`).innerText(), new RegExp(`Moved ${victim} to the trash`));
    assert.ok(existsSync(path.join(store, TRASH_DIR, ...victim.split("/"), "run.json")));
    // The next action clears the notice.
    await page.locator(`${D} .jp-labnote-trash-button`).click();
    assert.equal(await page.locator(`${D} .jp-labnote-dashboard-notice`).isVisible(), false, "the notice stayed after the next action");
    const restore = page.locator(`${D} .jp-labnote-dashboard-trash button.jp-labnote-restore[data-id="${victim}"]`);
    await restore.waitFor({ state: "visible" });
    await restore.click();
    await waitCount(page, 100);
    assert.ok(existsSync(path.join(store, ...victim.split("/"), "run.json")));
    await page.locator(`${D} .jp-labnote-trash-button`).click();
    // A running run: refused, and the notice goes once the run has ended.
    // Newest first, so the new run is in view (the table renders only the rows in view).
    const started = page.locator(`${TABLE} thead th[data-col="start"]`);
    while (!(await started.innerText()).endsWith("▾")) await started.click();
    const running = scriptRun(store, "script", 4);
    await waitFile(path.join(store, "script", "101", "run.json"));
    await page.locator(`${TABLE} tbody tr[data-id="script/101"]`).waitFor({ state: "attached", timeout: 15_000 });
    await page.locator(`${TABLE} tbody tr[data-id="script/101"] input[type=checkbox]`).click();
    await page.locator(`${D} .jp-labnote-delete-button`).click();
    const notice = page.locator(`${D} .jp-labnote-dashboard-notice`);
    await page.waitForFunction((sel) => /is running/.test(document.querySelector(sel)?.textContent ?? ""), `${D} .jp-labnote-dashboard-notice`);
    await running;
    await waitCellText(page, "script/101", "status", "completed");
    await notice.waitFor({ state: "hidden", timeout: 5000 });
    await page.locator(`${TABLE} tbody tr[data-id="script/101"] input[type=checkbox]`).click();
  });

  it("previews a run's image, CSV and 2-D .npy in its detail", async () => {
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("name=script-0");
    await waitCount(page, 1);
    await page.click(`${TABLE} tbody tr[data-id="script/1"] td[data-open]`);
    await page.locator(`${D} .jp-labnote-dashboard-detail`).waitFor({ state: "visible" });
    await assertArtifactPreviews(page);
    await page.locator(`${D} .jp-labnote-detail-artifact[data-kind="npy"]`).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, "dashboard-tour-detail-light.png") });
    await setTheme(page, "dark");
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-tour-detail-dark.png") });
    await setTheme(page, "light");
    await page.keyboard.press("Escape");
    await page.locator(`${D} .jp-labnote-dashboard-detail`).waitFor({ state: "hidden" });
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("");
  });

  it("keeps the toolbar on one line in a dashboard 1,280 px wide or more, and wraps it by whole groups below", async () => {
    const rows = () =>
      page.locator(`${D} .jp-labnote-dashboard-toolbar > .jp-labnote-toolgroup`).evaluateAll((gs) => gs.map((g) => {
        const r = g.getBoundingClientRect();
        return { middle: Math.round(r.top + r.height / 2), height: Math.round(r.height) };
      }));
    // Grouped, so the widest toolbar: the best-value chooser is shown too.
    await page.selectOption(`${D} select.jp-labnote-dashboard-group`, "config:optimizer");
    const around = 1440 - (await page.locator(D).evaluate((el) => el.getBoundingClientRect().width));
    const sized = async (width: number) => {
      await page.setViewportSize({ width: Math.round(width + around), height: 960 });
      await page.waitForTimeout(300);
      assert.ok(Math.abs((await page.locator(D).evaluate((el) => el.getBoundingClientRect().width)) - width) < 2);
    };
    for (const width of [1280, 1500]) {
      await sized(width);
      const groups = await rows();
      assert.ok(Math.max(...groups.map((g) => g.middle)) - Math.min(...groups.map((g) => g.middle)) <= 2, `${width} px wide, the toolbar wraps: ${JSON.stringify(groups)}`);
    }
    await sized(1280);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-tour-1280-light.png") });
    await sized(820);
    const narrow = await rows();
    assert.ok(Math.max(...narrow.map((g) => g.middle)) - Math.min(...narrow.map((g) => g.middle)) > 10, "820 px wide, the groups wrap");
    const one = Math.min(...narrow.map((g) => g.height));
    assert.ok(narrow.every((g) => g.height <= one + 4), `a group wrapped inside itself: ${JSON.stringify(narrow)}`);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-tour-820-light.png") });
    await page.setViewportSize({ width: 1440, height: 960 });
    await page.selectOption(`${D} select.jp-labnote-dashboard-group`, "");
  });
});
