/**
 * notebooks/sweeps.ipynb in a real JupyterLab with the real tslab kernel, seen through Chromium:
 * one sweep card per sweep cell, drawn by labnote's renderer, with its progress, best trial,
 * parallel coordinates and a table that sorts when a header is clicked; its "Open in dashboard"
 * button opens the Experiments dashboard on the sweep: its trials grouped, on parallel
 * coordinates over the sweep's space and metric, the best trial marked.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { command, openNotebook, paintedPixels, repo, setTheme, startCommand, useLab, waitCellsRan } from "./lab";
import { countText, D, groupHeadings, TABLE, waitCount } from "./dashboard-helpers";

describe("sweep cards in JupyterLab", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1400, height: 1000 } } });

  before(async () => {
    copyFileSync(path.join(repo, "notebooks", "sweeps.ipynb"), path.join(ui.lab.root, "sweeps.ipynb"));
  });

  const firstCard = () => ui.page.locator(".jp-OutputArea .jp-labnote-sweep").first();
  const runsInTable = () => firstCard().locator("tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.run));

  it("shows one card per sweep, with its progress, best trial, chart and table, and no card per trial", async () => {
    await openNotebook(ui.page, ui.lab, "sweeps.ipynb");
    await startCommand(ui.page, "notebook:run-all-cells");
    await waitCellsRan(ui.page, 400_000);
    const cards = ui.page.locator(".jp-OutputArea .jp-labnote-sweep");
    assert.equal(await cards.count(), 3, "the grid, the random sweep and its redraw");
    assert.equal(await ui.page.locator(".jp-OutputArea .jp-labnote-card").count(), 0, "trials show no run cards");
    const text = (await firstCard().textContent()) ?? "";
    assert.match(text, /sweeps\/sweep-1 · lr-hidden · grid/);
    assert.match(text, /completed/);
    assert.match(text, /9\/9 trials · 1 failed/);
    assert.match(text, /best val_loss 1\.2 .*sweeps\/6 · lr=0\.03, model\.hidden=64/);
    assert.match(await firstCard().locator(".jp-labnote-progress-fill").evaluate((e) => (e as HTMLElement).style.width), /^100(\.0)?%$/);
    assert.equal(await firstCard().locator("svg polyline").count(), 8, "a line per completed trial");
    const runs = await runsInTable();
    assert.equal(runs.length, 9);
    assert.equal(runs[0], "sweeps/6");
    assert.equal(runs[8], "sweeps/8", "the failed trial last");
    mkdirSync(path.join(repo, "screenshots"), { recursive: true });
    await firstCard().screenshot({ path: path.join(repo, "screenshots", "sweep-card.png") });
  });

  it("sorts the table by the metric the other way, and by a key, when its header is clicked", async () => {
    const before = await runsInTable();
    await firstCard().locator("button.jp-labnote-sweep-sort", { hasText: "val_loss" }).click();
    const flipped = await runsInTable();
    assert.deepEqual(flipped.slice(0, 8), before.slice(0, 8).reverse(), "worst first");
    assert.equal(flipped[8], "sweeps/8", "a trial without a value stays last");
    assert.match((await firstCard().locator("button.jp-labnote-sweep-sort", { hasText: "val_loss" }).textContent()) ?? "", /▼/);
    await firstCard().locator("button.jp-labnote-sweep-sort", { hasText: "lr" }).click();
    const lrs = await firstCard().locator("tbody tr td:nth-child(4)").allTextContents();
    assert.deepEqual(lrs, ["0.01", "0.01", "0.01", "0.03", "0.03", "0.03", "0.1", "0.1", "0.1"]);
  });

  it("opens the dashboard on the sweep from the card: its trials grouped, parallel coordinates over its space, the best marked", async () => {
    const page = ui.page;
    await firstCard().locator("button.jp-labnote-sweep-open").click();
    await page.locator(D).waitFor({ state: "visible", timeout: 30_000 });
    await waitCount(page, 9);
    assert.equal(await page.locator(`${D} .jp-labnote-dashboard-query`).inputValue(), "experiment=sweeps tag:sweep-1");
    // The sweeps list: every sweep of the experiment, the one shown marked.
    const list = page.locator(`${D} .jp-labnote-dashboard-sweeps`);
    assert.deepEqual(await list.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.sweep)), ["sweeps/sweep-3", "sweeps/sweep-2", "sweeps/sweep-1"]);
    const row = list.locator('tr[data-sweep="sweeps/sweep-1"]');
    assert.match(await row.getAttribute("class") ?? "", /jp-labnote-row-open/);
    assert.deepEqual((await row.locator("td").allInnerTexts()).map((t) => t.trim()), ["sweeps/sweep-1", "lr-hidden", "grid", "9/9 · 1 failed", "completed", "val_loss 1.2 (min) · sweeps/6 · lr=0.03, model.hidden=64"]);
    assert.match(await list.locator('tr[data-sweep="sweeps/sweep-2"]').innerText(), /random \(seed \d+\)\s+20\/20/);
    // Grouped by sweep, the group's best by the sweep's goal.
    assert.equal(await page.locator(`${D} select.jp-labnote-dashboard-group`).inputValue(), "sweep");
    assert.match(await page.locator(`${TABLE} tr.jp-labnote-dashboard-grouprow`).innerText(), /^sweeps\/sweep-1 "lr-hidden" · grid · completed · 9 runs · lowest val_loss 1\.2 \(sweeps\/6\)$/);
    // Parallel coordinates over lr and model.hidden, then val_loss; the best trial drawn in its own colour and named.
    const parallel = page.locator(`${D} .jp-labnote-parallel`);
    await parallel.waitFor({ state: "visible" });
    assert.equal(await parallel.locator("select.jp-labnote-parallel-metric").inputValue(), "val_loss");
    assert.equal(await parallel.locator(".jp-labnote-parallel-best").innerText(), "best val_loss 1.2 (min) · sweeps/6 · lr=0.03, model.hidden=64");
    assert.match(await parallel.innerText(), /9 of 9 runs inside the brushes/);
    assert.ok((await paintedPixels(page, `${D} .jp-labnote-parallel`, [0x4e, 0x79, 0xa7])) > 100, "the best trial's line is drawn");
    assert.ok((await paintedPixels(page, `${D} .jp-labnote-parallel`, [0xe3, 0x74, 0x00])) > 0, "the worst trial's line is orange");
    mkdirSync(path.join(repo, "screenshots"), { recursive: true });
    await page.screenshot({ path: path.join(repo, "screenshots", "dashboard-sweep-light.png") });
    await setTheme(page, "dark");
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(repo, "screenshots", "dashboard-sweep-dark.png") });
    await setTheme(page, "light");
  });

  it("switches sweeps from the list, leaves them for all runs, and opens one by the command's arguments", async () => {
    const page = ui.page;
    await page.locator(`${D} .jp-labnote-dashboard-sweeps tr[data-sweep="sweeps/sweep-2"]`).click();
    await waitCount(page, 20);
    assert.equal(await page.locator(`${D} .jp-labnote-dashboard-query`).inputValue(), "experiment=sweeps tag:sweep-2");
    await page.locator(`${D} .jp-labnote-sweeps-clear`).click();
    await waitCount(page, 49);
    assert.equal(await page.locator(`${D} .jp-labnote-dashboard-query`).inputValue(), "");
    assert.equal(await page.locator(`${D} .jp-labnote-parallel`).isVisible(), false);
    // Grouping by sweep is offered without one chosen: a group per sweep.
    await page.selectOption(`${D} select.jp-labnote-dashboard-group`, "sweep");
    const heads = await groupHeadings(page);
    assert.deepEqual(heads.map((t) => t.replace(/ · lowest.*/, "")), ["sweeps/sweep-3 · random · completed · 20 runs", "sweeps/sweep-2 · random · completed · 20 runs", 'sweeps/sweep-1 "lr-hidden" · grid · completed · 9 runs']);
    await command(page, "labnote-jupyterlab:open-sweep", { experiment: "sweeps", sweep: "sweep-1" });
    await waitCount(page, 9);
    assert.match(await countText(page), /^9 of 49 runs/);
    // Typing another query leaves the sweep: the best mark goes.
    await page.locator(`${D} .jp-labnote-dashboard-query`).fill("lr<0.05");
    assert.equal(await page.locator(`${D} .jp-labnote-parallel-best`).isVisible(), false);
    assert.equal(await page.locator(`${D} .jp-labnote-dashboard-sweeps tr.jp-labnote-row-open`).count(), 0);
    // A sweep that does not exist is said so.
    await command(page, "labnote-jupyterlab:open-sweep", { experiment: "sweeps", sweep: 9 });
    assert.match(await page.locator(`${D} .jp-labnote-dashboard-notice`).innerText(), /No sweep sweep-9 in experiment sweeps/);
  });
});
