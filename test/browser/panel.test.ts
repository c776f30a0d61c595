/**
 * labnote in a real JupyterLab with the real tslab kernel, driven through Chromium: what a
 * person sees in cell outputs and in the Experiments panel.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { MIME } from "../../src/protocol/index";
import { bundle, EVIL, runPayload } from "./fixtures";
import {
  command,
  kernelPids,
  launchBrowser,
  openNotebook,
  openPanel,
  paintedPixels,
  repo,
  sendBundleCode,
  setRightSidebarWidth,
  setTheme,
  startCommand,
  startLab,
  writeNotebook,
  type Lab,
} from "./lab";

const SHOTS = path.join(repo, "screenshots");

const setup = `import { experiment } from "labnote";
const exp = await experiment("demo", { config: { lr: 0.01, epochs: 20, optimizer: { name: "adam", beta: 0.9 } } });`;

function trainCell(name: string, steps: number, pauseEvery: number, config = "{}", save = false): string {
  return `await exp.run(async (run) => {
  for (let i = 0; i < ${steps}; i++) {
    run.log("loss", 2 * Math.exp(-i / ${Math.max(1, steps / 4)}) + 0.05 * Math.random(), i);
    run.log("accuracy", 1 - Math.exp(-i / ${Math.max(1, steps / 5)}), i);
    if (i % ${pauseEvery} === 0) await new Promise((r) => setTimeout(r, 100));
  }
  ${save ? 'await run.save({ best: 0.97, note: "fixture" }, "summary");' : ""}
}, { name: ${JSON.stringify(name)}, config: ${config} });`;
}

/** The outputs of the notebook in view (other notebooks stay open in hidden tabs). */
const HERE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea";

async function runningCount(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.querySelector<HTMLElement>("#jp-labnote-experiments .jp-labnote-live-summary")?.dataset.running ?? 0));
}

describe("labnote in JupyterLab", { timeout: 600_000 }, () => {
  let lab: Lab;
  let browser: Browser;
  let page: Page;

  before(async () => {
    lab = await startLab();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    writeNotebook(path.join(lab.root, "train.ipynb"), [
      setup,
      trainCell("baseline", 200, 20, "{}", true),
      trainCell("higher lr", 2500, 100, "{ lr: 0.1 }"),
    ]);
  });

  after(async () => {
    await browser?.close();
    await lab?.stop();
  });

  it("shows a run card with a chart that has data, and the panel counts running runs", async () => {
    await openNotebook(page, lab, "train.ipynb");
    await openPanel(page);
    await setRightSidebarWidth(page, 420);
    await startCommand(page, "notebook:run-all-cells");
    // While a cell runs, the panel's running count goes above zero.
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>("#jp-labnote-experiments .jp-labnote-live-summary")?.dataset.running ?? 0) >= 1,
      undefined,
      { timeout: 120_000 },
    );
    assert.ok((await runningCount(page)) >= 1);
    await page.waitForSelector("#jp-labnote-experiments .jp-labnote-run[data-status=running]");
    await page.waitForFunction(() => document.querySelectorAll("#jp-labnote-experiments .jp-labnote-run[data-status=completed]").length >= 2, undefined, {
      timeout: 180_000,
    });
    assert.equal(await runningCount(page), 0);
    const cards = page.locator(".jp-OutputArea .jp-labnote-card");
    assert.equal(await cards.count(), 2);
    await page.waitForTimeout(300);
    assert.ok((await paintedPixels(page, ".jp-OutputArea .jp-labnote-card")) > 2000, "the card's charts are drawn");
    const text = (await cards.first().textContent()) ?? "";
    assert.match(text, /completed/);
    assert.match(text, /baseline/);
    assert.match(text, /loss/);
    // Newest first in the panel.
    const names = await page.locator("#jp-labnote-experiments .jp-labnote-run-name").allInnerTexts();
    assert.deepEqual(names, ["higher lr", "baseline"]);
  });

  it("opens an artifact in JupyterLab when clicked in the panel", async () => {
    await page.click('#jp-labnote-experiments .jp-labnote-run:has-text("baseline")');
    await page.waitForSelector('#jp-labnote-experiments .jp-labnote-run.jp-labnote-selected:has-text("baseline")', { timeout: 5_000 });
    const link = page.locator('#jp-labnote-experiments .jp-labnote-live .jp-labnote-artifact-name:has-text("summary")');
    await link.waitFor({ timeout: 20_000 });
    await link.click();
    try {
      const tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab .lm-TabBar-tabLabel", { hasText: "summary" });
      await tab.waitFor({ timeout: 20_000 });
      assert.match(await tab.innerText(), /summary/);
      // The file's content is on screen in the main area.
      await page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget?.node.innerText.includes("best"), undefined, { timeout: 20_000 });
    } finally {
      await page.evaluate(() => {
        const app = (window as any).jupyterapp;
        for (const w of [...app.shell.widgets("main")]) if (!w.context?.path?.endsWith(".ipynb")) w.close();
      });
    }
  });

  it("looks right in the light and the dark theme", async () => {
    mkdirSync(SHOTS, { recursive: true });
    await page.click('#jp-labnote-experiments .jp-labnote-run:has-text("higher lr")');
    for (const theme of ["light", "dark"] as const) {
      await setTheme(page, theme);
      await page.waitForTimeout(800);
      await page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, `panel-live-${theme}.png`) });
      await page.locator(".jp-OutputArea .jp-labnote-card").first().screenshot({ path: path.join(SHOTS, `card-${theme}.png`) });
      await page.screenshot({ path: path.join(SHOTS, `lab-${theme}.png`) });
    }
    await setTheme(page, "light");
  });

  it("shows the history from disk after a page reload, sortable, filterable and comparable", async () => {
    await page.reload();
    await page.waitForSelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", { timeout: 60_000 });
    await openPanel(page);
    await page.click("#jp-labnote-experiments .jp-labnote-tab[data-tab=history]");
    const rows = page.locator("#jp-labnote-experiments .jp-labnote-history-table tbody tr[data-id]");
    await page.waitForFunction(() => document.querySelectorAll("#jp-labnote-experiments .jp-labnote-history-table tbody tr[data-id]").length >= 2, undefined, {
      timeout: 30_000,
    });
    assert.equal(await rows.count(), 2);
    const statuses = await page.locator("#jp-labnote-experiments .jp-labnote-history-table tbody td.jp-labnote-status-text").allInnerTexts();
    assert.deepEqual(statuses, ["completed", "completed"]);
    // The varying config key is a column; sorting by it puts lr 0.01 first.
    await page.click('#jp-labnote-experiments .jp-labnote-history-table th[data-col="config:lr"]');
    assert.match(await rows.first().innerText(), /baseline/);
    await page.click('#jp-labnote-experiments .jp-labnote-history-table th[data-col="config:lr"]');
    assert.match(await rows.first().innerText(), /higher lr/);
    await page.fill("#jp-labnote-experiments .jp-labnote-filter", "baseline");
    assert.equal(await rows.count(), 1);
    // The query language of labnote ls --filter: a config key compared as a number.
    await page.fill("#jp-labnote-experiments .jp-labnote-filter", "lr=0.01 status=completed");
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /baseline/);
    await page.fill("#jp-labnote-experiments .jp-labnote-filter", "lr<<1");
    const note = page.locator("#jp-labnote-experiments .jp-labnote-filter-note.jp-labnote-error");
    await note.waitFor({ state: "visible", timeout: 10_000 });
    assert.match(await note.innerText(), /unexpected "<" .*\(column 4\)\nlr<<1\n {3}\^/);
    assert.equal(await rows.count(), 2, "a filter that does not parse filters nothing");
    await page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, "panel-filter-error.png") });
    await page.fill("#jp-labnote-experiments .jp-labnote-filter", "");
    assert.ok(await note.isHidden());
    const boxes = page.locator("#jp-labnote-experiments .jp-labnote-history-table tbody input[type=checkbox]");
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.waitForSelector("#jp-labnote-experiments .jp-labnote-compare canvas", { timeout: 20_000 });
    const compare = await page.locator("#jp-labnote-experiments .jp-labnote-compare").innerText();
    assert.match(compare, /Comparing 2 runs/);
    assert.match(compare, /1 differ/);
    await page.waitForTimeout(500);
    assert.ok((await paintedPixels(page, "#jp-labnote-experiments .jp-labnote-compare")) > 2000);
    for (const theme of ["light", "dark"] as const) {
      await setTheme(page, theme);
      await page.waitForTimeout(800);
      await page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, `panel-history-${theme}.png`) });
    }
    await setTheme(page, "light");
  });

  it("marks a run died at once when its kernel is killed mid-run", async () => {
    writeNotebook(path.join(lab.root, "kill.ipynb"), [
      `import { experiment } from "labnote";
const exp = await experiment("doomed", { config: { lr: 0.01 } });`,
      trainCell("forever", 100000, 10),
    ]);
    await openNotebook(page, lab, "kill.ipynb");
    await openPanel(page);
    await startCommand(page, "notebook:run-all-cells");
    await page.waitForSelector('#jp-labnote-experiments .jp-labnote-run[data-status="running"]', { timeout: 120_000 });
    const kernelId = await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel.id as string);
    const pids = kernelPids(kernelId);
    assert.ok(pids.length > 0, "found the kernel process");
    const killedAt = Date.now();
    for (const pid of pids) process.kill(pid, "SIGKILL");
    await page.waitForSelector('#jp-labnote-experiments .jp-labnote-run[data-status="died"]', { timeout: 15_000 });
    const after = Date.now() - killedAt;
    assert.equal(await runningCount(page), 0);
    assert.match(await page.locator("#jp-labnote-experiments .jp-labnote-live .jp-labnote-card .jp-labnote-badge").first().innerText(), /died/);
    // The cell's card, which its dead kernel can no longer update, says so too.
    await page.waitForSelector('.jp-OutputArea .jp-labnote-card[data-status="died"]', { timeout: 5_000 });
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, "lab-died-light.png") });
    console.log(`# run marked died ${after} ms after the kernel was killed`);
  });

  it("never interprets kernel strings as HTML, and shows a note and the fallback for bad payloads", async () => {
    const evil = runPayload({ experiment: "xss", metrics: [EVIL, "loss"], config: { [EVIL]: EVIL, lr: 0.1 }, status: "completed" });
    evil.name = EVIL;
    evil.tags = [EVIL];
    evil.error = { message: EVIL };
    evil.artifacts = [{ name: EVIL, path: "x.json", size: 10, format: EVIL, mediaType: "application/json" }];
    const newer = { ...bundle(runPayload({ experiment: "future" })), [MIME.run]: { ...runPayload({ experiment: "future" }), v: 99 } };
    const malformed = { [MIME.run]: { v: 1, kind: "run", id: 3 }, "text/plain": "labnote run (plain fallback)" };
    writeNotebook(path.join(lab.root, "bundles.ipynb"), [
      sendBundleCode(JSON.stringify(bundle(evil)), "evil", false),
      sendBundleCode(JSON.stringify(newer), "newer", false),
      sendBundleCode(JSON.stringify(malformed), "bad", false),
    ]);
    await openNotebook(page, lab, "bundles.ipynb");
    await command(page, "notebook:run-all-cells");
    await page.waitForSelector(`${HERE} .jp-labnote-card`, { timeout: 60_000 });
    await page.waitForFunction((here) => document.querySelectorAll(`${here} .jp-labnote-note`).length >= 2, HERE, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const card = page.locator(`${HERE} .jp-labnote-card`).first();
    assert.equal(await card.locator("img").count(), 0, "no element was made from kernel text");
    assert.ok((await card.innerText()).includes("<img src=x"), "kernel text is shown as text");
    assert.equal(await page.evaluate(() => document.body.dataset.pwned), undefined);
    const notes = await page.locator(`${HERE} .jp-labnote-note`).allInnerTexts();
    assert.match(notes[0], /newer than this reader/);
    assert.match(notes[1], /not a string|malformed/);
    assert.match(await page.locator(`${HERE} .jp-labnote-fallback`).nth(1).innerText(), /plain fallback/);
    // The panel lists the hostile run with its name as text too.
    assert.equal(await page.locator("#jp-labnote-experiments img:not(.jp-labnote-artifact-preview)").count(), 0);
  });

  it("follows the active notebook, with a hint for a notebook without runs", async () => {
    await openPanel(page);
    await page.waitForSelector('#jp-labnote-experiments .jp-labnote-run-name:has-text("<img")');
    assert.equal(await page.locator("#jp-labnote-experiments .jp-labnote-panel-notebook").innerText(), "bundles.ipynb");
    writeNotebook(path.join(lab.root, "empty.ipynb"), ["1 + 1"]);
    await command(page, "docmanager:open", { path: "empty.ipynb" });
    await page.waitForFunction(() => document.querySelector("#jp-labnote-experiments .jp-labnote-panel-notebook")?.textContent === "empty.ipynb", undefined, { timeout: 30_000 });
    const hint = page.locator("#jp-labnote-experiments .jp-labnote-hint").first();
    await hint.waitFor();
    assert.match(await hint.innerText(), /No runs in this kernel session yet|No labnote runs/);
    assert.equal(await page.locator("#jp-labnote-experiments .jp-labnote-run").count(), 0);
    await page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, "panel-hint-light.png") });
    // Back to the first notebook: its runs are still there.
    await page.click('#jp-main-dock-panel .lm-TabBar-tab:has-text("bundles.ipynb")');
    await page.waitForFunction(() => document.querySelector("#jp-labnote-experiments .jp-labnote-panel-notebook")?.textContent === "bundles.ipynb");
    assert.equal(await page.locator("#jp-labnote-experiments .jp-labnote-run").count(), 1);
  });

  it("updates a card in place: same nodes, same charts, after many updates", async () => {
    // Each update a millisecond newer than the last, as a kernel's are (the panel keeps the newest).
    const updates = Array.from({ length: 60 }, (_, k) => {
      const p = runPayload({ experiment: "inplace", steps: 50 + k * 40 });
      p.sentAt += k;
      return bundle(p);
    });
    writeNotebook(path.join(lab.root, "inplace.ipynb"), [
      sendBundleCode(JSON.stringify(updates[0]), "inplace", false),
      `const updates = ${JSON.stringify(updates.slice(1))};
for (const u of updates) {
  ${sendBundleCode("u", "inplace", true)};
  await new Promise((r) => setTimeout(r, 50));
}`,
    ]);
    await openNotebook(page, lab, "inplace.ipynb");
    await command(page, "notebook:run-cell-and-select-next");
    await page.waitForSelector(`${HERE} .jp-labnote-card canvas`);
    await page.evaluate((here) => {
      const card = document.querySelector<HTMLElement>(`${here} .jp-labnote-card`)!;
      card.dataset.probe = "first";
      card.querySelectorAll("canvas").forEach((c) => (c.dataset.probe = "first"));
    }, HERE);
    await command(page, "notebook:run-cell-and-select-next");
    await page.waitForFunction((here) => /step 2409/.test(document.querySelector(`${here} .jp-labnote-card`)?.textContent ?? ""), HERE, { timeout: 60_000 });
    await page.waitForTimeout(300);
    const state = await page.evaluate((here) => ({
      cards: document.querySelectorAll(`${here} .jp-labnote-card`).length,
      same: document.querySelector<HTMLElement>(`${here} .jp-labnote-card`)?.dataset.probe,
      canvases: document.querySelectorAll(`${here} .jp-labnote-card canvas`).length,
      sameCanvases: document.querySelectorAll(`${here} .jp-labnote-card canvas[data-probe="first"]`).length,
    }), HERE);
    assert.deepEqual(state, { cards: 1, same: "first", canvases: 2, sameCanvases: 2 });
  });
});
