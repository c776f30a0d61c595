/**
 * notebooks/sweeps.ipynb in a real JupyterLab with the real tslab kernel, seen through Chromium:
 * one sweep card per sweep cell, drawn by labnote's renderer, with its progress, best trial,
 * parallel coordinates and a table that sorts when a header is clicked.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { openNotebook, repo, startCommand, useLab, waitCellsRan } from "./lab";

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
});
