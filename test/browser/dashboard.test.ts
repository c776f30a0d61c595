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
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { writeRuns } from "./fixtures";
import { command, launchBrowser, openNotebook, openPanel, repo, startLab, writeNotebook, type Lab } from "./lab";

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
  let lab: Lab;
  let browser: Browser;
  let page: Page;

  before(async () => {
    lab = await startLab();
    writeRuns(lab.root, "sweep", RUNS);
    writeRuns(lab.root, "other", 12);
    writeNotebook(path.join(lab.root, "dash.ipynb"), ['import { experiment } from "labnote";']);
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    await openNotebook(page, lab, "dash.ipynb");
  });

  after(async () => {
    await browser?.close();
    await lab?.stop();
  });

  it("opens from its command with every run of every experiment, the varying config keys and metric columns", async () => {
    await command(page, "labnote-jupyterlab:open-dashboard");
    await page.waitForFunction((n) => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === String(n), RUNS + 12, { timeout: 120_000 });
    assert.match(await count(page), new RegExp(`^${RUNS + 12} of ${RUNS + 12} runs`));
    const heads = await page.locator(`${D} thead th`).allInnerTexts();
    for (const h of ["id", "name", "status", "lr", "batch", "loss.last", "accuracy.last", "val_loss.last"]) assert.ok(heads.some((t) => t.replace(/ [▴▾]$/, "") === h), `no column ${h}: ${heads.join(" | ")}`);
    // Only the rows in view are in the page.
    const inPage = (await shownIds(page)).length;
    assert.ok(inPage > 10 && inPage < 120, `${inPage} rows in the page`);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-all.png") });
  });

  it("filters with the query language, and says where a query is wrong", async () => {
    const q = page.locator(`${D} .jp-labnote-dashboard-query`);
    await page.selectOption(`${D} .jp-labnote-toolbar select.jp-labnote-select >> nth=0`, "sweep");
    await page.waitForFunction((n) => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === String(n), RUNS, { timeout: 60_000 });
    await q.fill("lr<0.01 status=completed");
    await page.waitForFunction(() => /^\d+ of 1000 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent ?? "") && !document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent?.startsWith("1000 of"));
    // lr 0.003 is every 4th run (i % 4 == 3); completed is 3 of every 5 statuses.
    let expected = 0;
    for (let i = 1; i <= RUNS; i++) if (i % 4 === 3 && i % 5 < 3) expected++;
    assert.match(await count(page), new RegExp(`^${expected} of ${RUNS} runs`));
    await q.fill("batch=64 tag:sweep");
    let tagged = 0;
    for (let i = 1; i <= RUNS; i++) if (i % 3 === 1 && i % 7 === 0) tagged++;
    await page.waitForFunction((t) => document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent?.startsWith(`${t} of`), tagged);
    await q.fill("lr<<0.01");
    const error = page.locator(`${D} .jp-labnote-filter-note`);
    await error.waitFor({ state: "visible" });
    assert.match(await error.innerText(), /\^/);
    await q.fill("");
  });

  it("sorts by a metric, groups by a config key with counts and the best value, and chooses columns", async () => {
    await page.click(`${D} thead th[data-col="metric:loss.last"]`);
    await page.locator(`${D} .jp-labnote-dashboard-scroll`).evaluate((el) => (el.scrollLeft = 0));
    const firstLoss = await page.locator(`${D} tbody tr[data-id] >> nth=0`).innerText();
    assert.match(firstLoss, /0\.05/);
    await page.selectOption(`${D} .jp-labnote-dashboard-group`, "config:lr");
    await page.selectOption(`${D} .jp-labnote-dashboard-best`, "min:loss");
    const groups = page.locator(`${D} tr.jp-labnote-dashboard-grouprow`);
    await groups.first().waitFor();
    const groupText = await groups.allInnerTexts();
    assert.ok(groupText.length >= 1 && groupText.every((t) => /^lr=\S+ · 250 runs · lowest loss \S+ \(sweep\/\d+\)$/.test(t)), groupText.join("\n"));
    await page.screenshot({ path: path.join(SHOTS, "dashboard-grouped.png") });
    await page.selectOption(`${D} .jp-labnote-dashboard-group`, "");
    // The chooser: varying keys first and marked; hiding a column removes it.
    await page.click(`${D} button:has-text("Columns")`);
    const configChoices = await page.locator(`${D} .jp-labnote-dashboard-choices:nth-of-type(2) label`).allInnerTexts();
    assert.deepEqual(configChoices.slice(0, 4).map((t) => t.trim()).sort(), ["batch", "lr", "optimizer.name", "seed"].sort());
    await page.uncheck(`${D} input[data-col="config:seed"]`);
    await page.check(`${D} input[data-col="metric:loss.min"]`);
    const heads = await page.locator(`${D} thead th`).allInnerTexts();
    assert.ok(!heads.includes("seed") && heads.some((h) => h.startsWith("loss.min")), heads.join(" | "));
    await page.click(`${D} button:has-text("Columns")`);
    // Parallel coordinates: brushing the top of the lr axis (0.1) leaves the lr=0.1 runs.
    await page.click(`${D} .jp-labnote-parallel-toggle`);
    const canvas = page.locator(`${D} .jp-labnote-parallel-canvas`);
    await canvas.waitFor();
    await page.waitForTimeout(300);
    const axes = await page.locator(`${D} thead th[data-col^="config:"]`).evaluateAll((ths) => ths.map((t) => (t as HTMLElement).dataset.col));
    const lrAxis = axes.indexOf("config:lr");
    const box = (await canvas.boundingBox())!;
    const n = axes.length + 1;
    const x = box.x + 60 + (lrAxis * (box.width - 120)) / (n - 1);
    await page.mouse.move(x, box.y + 24);
    await page.mouse.down();
    await page.mouse.move(x, box.y + 60, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => /^250 of 1000 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent ?? ""), undefined, { timeout: 10_000 });
    const lrs = await page.locator(`${D} tbody tr[data-id] td:nth-child(${(await page.locator(`${D} thead th`).evaluateAll((ths) => ths.findIndex((t) => (t as HTMLElement).dataset.col === "config:lr"))) + 1})`).allInnerTexts();
    assert.ok(lrs.length > 0 && lrs.every((t) => t === "0.1"), lrs.join(","));
    await page.screenshot({ path: path.join(SHOTS, "dashboard-parallel.png") });
    await page.click(`${D} button:has-text("Clear brushes")`);
    await page.click(`${D} .jp-labnote-parallel-toggle`);
  });

  it("selects with checkboxes and shift-click, and keeps id and name in place while scrolling sideways", async () => {
    await page.setViewportSize({ width: 900, height: 800 });
    const boxes = page.locator(`${D} tbody tr[data-id] input[type=checkbox]`);
    await boxes.nth(1).click();
    await boxes.nth(5).click({ modifiers: ["Shift"] });
    assert.match(await count(page), /· 5 selected/);
    await boxes.nth(3).click();
    assert.match(await count(page), /· 4 selected/);
    // The selected runs are compared below the table: where their config differs.
    const compare = page.locator(`${D} .jp-labnote-compare`);
    await page.waitForFunction(() => /Comparing 4 runs/.test(document.querySelector("#labnote-dashboard .jp-labnote-compare")?.textContent ?? ""), undefined, { timeout: 30_000 });
    assert.match(await compare.innerText(), /differ/);
    const box = await compare.boundingBox();
    assert.ok(box && box.height > 60, `the comparison is not in view: ${JSON.stringify(box)}`);
    const nameBefore = await page.locator(`${D} tbody tr[data-id] >> nth=0`).locator("td.jp-labnote-sticky-2").boundingBox();
    await page.locator(`${D} .jp-labnote-dashboard-scroll`).evaluate((el) => (el.scrollLeft = 600));
    await page.waitForTimeout(300);
    const nameAfter = await page.locator(`${D} tbody tr[data-id] >> nth=0`).locator("td.jp-labnote-sticky-2").boundingBox();
    assert.ok(nameBefore && nameAfter && Math.abs(nameBefore.x - nameAfter.x) < 1, `the name column moved: ${nameBefore?.x} → ${nameAfter?.x}`);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-scrolled.png") });
    // Scrolling down renders the rows that come into view.
    await page.locator(`${D} .jp-labnote-dashboard-scroll`).evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(300);
    const ids = await shownIds(page);
    assert.ok(ids.length > 0 && ids.length < 120);
    await page.setViewportSize({ width: 1500, height: 950 });
  });

  it("opens from the panel's Dashboard button and from the Launcher", async () => {
    await page.click('.lm-TabBar-tab:has-text("Experiments") .lm-TabBar-tabCloseIcon');
    await openPanel(page);
    await page.click("#jp-labnote-experiments .jp-labnote-tab[data-tab=history]");
    await page.click("#jp-labnote-experiments .jp-labnote-open-dashboard");
    await page.waitForSelector(`${D} .jp-labnote-dashboard-table`, { timeout: 30_000 });
    await page.click('.lm-TabBar-tab:has-text("Experiments") .lm-TabBar-tabCloseIcon');
    await command(page, "launcher:create");
    const card = page.locator('.jp-LauncherCard:has-text("Open experiments dashboard")');
    await card.waitFor({ timeout: 30_000 });
    await card.click();
    await page.waitForSelector(`${D} .jp-labnote-dashboard-table`, { timeout: 30_000 });
  });
});
