/**
 * The Experiments dashboard in a real JupyterLab, driven through Chromium: opened from the
 * command palette's command, the panel's button and the Launcher; the runs table with every
 * config key and metric summary, the query language, sorting, grouping with counts and the best
 * value, the column chooser, shift-click selection, and the id and name columns staying in
 * place while the table scrolls sideways.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { writeRuns } from "./fixtures";
import { command, openNotebook, openPanel, repo, useLab, writeNotebook } from "./lab";

const SHOTS = path.join(repo, "screenshots");
const RUNS = 1000;
const D = "#labnote-dashboard";

async function shownIds(page: Page): Promise<string[]> {
  return page.locator(`${D} .jp-labnote-dashboard-table tbody tr[data-id]`).evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id!));
}

async function count(page: Page): Promise<string> {
  return page.locator(`${D} .jp-labnote-dashboard-count`).innerText();
}

describe("the experiments dashboard", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1500, height: 950 } } });

  before(async () => {
    writeRuns(ui.lab.root, "sweep", RUNS);
    writeRuns(ui.lab.root, "other", 12);
    writeNotebook(path.join(ui.lab.root, "dash.ipynb"), ['import { experiment } from "labnote";']);
    mkdirSync(SHOTS, { recursive: true });
    await openNotebook(ui.page, ui.lab, "dash.ipynb");
  });

  it("opens from its command with every run of every experiment, the varying config keys and metric columns", async () => {
    await command(ui.page, "labnote-jupyterlab:open-dashboard");
    await ui.page.waitForFunction((n) => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === String(n), RUNS + 12, { timeout: 120_000 });
    assert.match(await count(ui.page), new RegExp(`^${RUNS + 12} of ${RUNS + 12} runs`));
    const heads = await ui.page.locator(`${D} thead th`).allInnerTexts();
    for (const h of ["id", "name", "status", "lr", "batch", "loss.last", "accuracy.last", "val_loss.last"]) assert.ok(heads.some((t) => t.replace(/ [▴▾]$/, "") === h), `no column ${h}: ${heads.join(" | ")}`);
    // Only the rows in view are in the ui.page.
    const inPage = (await shownIds(ui.page)).length;
    assert.ok(inPage > 10 && inPage < 120, `${inPage} rows in the page`);
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-all.png") });
  });

  it("filters with the query language, and says where a query is wrong", async () => {
    const q = ui.page.locator(`${D} .jp-labnote-dashboard-query`);
    await ui.page.selectOption(`${D} .jp-labnote-toolbar select.jp-labnote-select >> nth=0`, "sweep");
    await ui.page.waitForFunction((n) => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === String(n), RUNS, { timeout: 60_000 });
    await q.fill("lr<0.01 status=completed");
    await ui.page.waitForFunction(() => /^\d+ of 1000 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent ?? "") && !document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent?.startsWith("1000 of"));
    // lr 0.003 is every 4th run (i % 4 == 3); completed is 3 of every 5 statuses.
    let expected = 0;
    for (let i = 1; i <= RUNS; i++) if (i % 4 === 3 && i % 5 < 3) expected++;
    assert.match(await count(ui.page), new RegExp(`^${expected} of ${RUNS} runs`));
    await q.fill("batch=64 tag:sweep");
    let tagged = 0;
    for (let i = 1; i <= RUNS; i++) if (i % 3 === 1 && i % 7 === 0) tagged++;
    await ui.page.waitForFunction((t) => document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent?.startsWith(`${t} of`), tagged);
    await q.fill("lr<<0.01");
    const error = ui.page.locator(`${D} .jp-labnote-filter-note`);
    await error.waitFor({ state: "visible" });
    assert.match(await error.innerText(), /\^/);
    await q.fill("");
  });

  it("sorts by a metric, groups by a config key with counts and the best value, and chooses columns", async () => {
    await ui.page.click(`${D} thead th[data-col="metric:loss.last"]`);
    await ui.page.locator(`${D} .jp-labnote-dashboard-scroll`).evaluate((el) => (el.scrollLeft = 0));
    const firstLoss = await ui.page.locator(`${D} tbody tr[data-id] >> nth=0`).innerText();
    assert.match(firstLoss, /0\.05/);
    await ui.page.selectOption(`${D} .jp-labnote-dashboard-group`, "config:lr");
    await ui.page.selectOption(`${D} .jp-labnote-dashboard-best`, "min:loss");
    const groups = ui.page.locator(`${D} tr.jp-labnote-dashboard-grouprow`);
    await groups.first().waitFor();
    const groupText = await groups.allInnerTexts();
    assert.ok(groupText.length >= 1 && groupText.every((t) => /^lr=\S+ · 250 runs · lowest loss \S+ \(sweep\/\d+\)$/.test(t)), groupText.join("\n"));
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-grouped.png") });
    await ui.page.selectOption(`${D} .jp-labnote-dashboard-group`, "");
    // The chooser: varying keys first and marked; hiding a column removes it.
    await ui.page.click(`${D} button:has-text("Columns")`);
    const configChoices = await ui.page.locator(`${D} .jp-labnote-dashboard-choices:nth-of-type(2) label`).allInnerTexts();
    assert.deepEqual(configChoices.slice(0, 4).map((t) => t.trim()).sort(), ["batch", "lr", "optimizer.name", "seed"].sort());
    await ui.page.uncheck(`${D} input[data-col="config:seed"]`);
    await ui.page.check(`${D} input[data-col="metric:loss.min"]`);
    const heads = await ui.page.locator(`${D} thead th`).allInnerTexts();
    assert.ok(!heads.includes("seed") && heads.some((h) => h.startsWith("loss.min")), heads.join(" | "));
    await ui.page.click(`${D} button:has-text("Columns")`);
    // Parallel coordinates: brushing the top of the lr axis (0.1) leaves the lr=0.1 runs.
    await ui.page.click(`${D} .jp-labnote-parallel-toggle`);
    const canvas = ui.page.locator(`${D} .jp-labnote-parallel-canvas`);
    await canvas.waitFor();
    await ui.page.waitForTimeout(300);
    const axes = await ui.page.locator(`${D} thead th[data-col^="config:"]`).evaluateAll((ths) => ths.map((t) => (t as HTMLElement).dataset.col));
    const lrAxis = axes.indexOf("config:lr");
    const box = (await canvas.boundingBox())!;
    const n = axes.length + 1;
    const x = box.x + 60 + (lrAxis * (box.width - 120)) / (n - 1);
    await ui.page.mouse.move(x, box.y + 24);
    await ui.page.mouse.down();
    await ui.page.mouse.move(x, box.y + 60, { steps: 5 });
    await ui.page.mouse.up();
    await ui.page.waitForFunction(() => /^250 of 1000 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent ?? ""), undefined, { timeout: 10_000 });
    const lrs = await ui.page.locator(`${D} tbody tr[data-id] td:nth-child(${(await ui.page.locator(`${D} thead th`).evaluateAll((ths) => ths.findIndex((t) => (t as HTMLElement).dataset.col === "config:lr"))) + 1})`).allInnerTexts();
    assert.ok(lrs.length > 0 && lrs.every((t) => t === "0.1"), lrs.join(","));
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-parallel.png") });
    await ui.page.click(`${D} button:has-text("Clear brushes")`);
    await ui.page.click(`${D} .jp-labnote-parallel-toggle`);
  });

  it("selects with checkboxes and shift-click, and keeps id and name in place while scrolling sideways", async () => {
    await ui.page.setViewportSize({ width: 900, height: 800 });
    const boxes = ui.page.locator(`${D} tbody tr[data-id] input[type=checkbox]`);
    await boxes.nth(1).click();
    await boxes.nth(5).click({ modifiers: ["Shift"] });
    assert.match(await count(ui.page), /· 5 selected/);
    await boxes.nth(3).click();
    assert.match(await count(ui.page), /· 4 selected/);
    // The selected runs are compared below the table: where their config differs.
    const compare = ui.page.locator(`${D} .jp-labnote-compare`);
    await ui.page.waitForFunction(() => /Comparing 4 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-compare")?.textContent ?? ""), undefined, { timeout: 30_000 });
    assert.match(await compare.innerText(), /differ/);
    const box = await compare.boundingBox();
    assert.ok(box && box.height > 60, `the comparison is not in view: ${JSON.stringify(box)}`);
    const nameBefore = await ui.page.locator(`${D} tbody tr[data-id] >> nth=0`).locator("td.jp-labnote-sticky-2").boundingBox();
    await ui.page.locator(`${D} .jp-labnote-dashboard-scroll`).evaluate((el) => (el.scrollLeft = 600));
    await ui.page.waitForTimeout(300);
    const nameAfter = await ui.page.locator(`${D} tbody tr[data-id] >> nth=0`).locator("td.jp-labnote-sticky-2").boundingBox();
    assert.ok(nameBefore && nameAfter && Math.abs(nameBefore.x - nameAfter.x) < 1, `the name column moved: ${nameBefore?.x} → ${nameAfter?.x}`);
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-scrolled.png") });
    // Scrolling down renders the rows that come into view.
    await ui.page.locator(`${D} .jp-labnote-dashboard-scroll`).evaluate((el) => (el.scrollTop = el.scrollHeight));
    await ui.page.waitForTimeout(300);
    const ids = await shownIds(ui.page);
    assert.ok(ids.length > 0 && ids.length < 120);
    await ui.page.setViewportSize({ width: 1500, height: 950 });
  });

  it("opens from the panel's Dashboard button and from the Launcher", async () => {
    await ui.page.click('.lm-TabBar-tab:has-text("Experiments") .lm-TabBar-tabCloseIcon');
    await openPanel(ui.page);
    await ui.page.click("#jp-labnote-experiments .jp-labnote-tab[data-tab=history]");
    await ui.page.click("#jp-labnote-experiments .jp-labnote-open-dashboard");
    await ui.page.waitForSelector(`${D} .jp-labnote-dashboard-table`, { timeout: 30_000 });
    await ui.page.click('.lm-TabBar-tab:has-text("Experiments") .lm-TabBar-tabCloseIcon');
    await command(ui.page, "launcher:create");
    const card = ui.page.locator('.jp-LauncherCard:has-text("Open experiments dashboard")');
    await card.waitFor({ timeout: 30_000 });
    await card.click();
    await ui.page.waitForSelector(`${D} .jp-labnote-dashboard-table`, { timeout: 30_000 });
  });
});
