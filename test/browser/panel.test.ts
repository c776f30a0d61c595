/**
 * labnote in a real JupyterLab with the real tslab kernel, driven through Chromium: what a
 * person sees in cell outputs and in the Experiments panel.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { MIME } from "../../src/protocol/index";
import { bundle, EVIL, runPayload } from "./fixtures";
import {
  command,
  kernelPids,
  openNotebook,
  openPanel,
  paintedPixels,
  repo,
  sendBundleCode,
  setRightSidebarWidth,
  setTheme,
  startCommand,
  useLab,
  writeNotebook,
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
  const ui = useLab({ page: { viewport: { width: 1500, height: 1000 } } });

  before(async () => {
    writeNotebook(path.join(ui.lab.root, "train.ipynb"), [
      setup,
      trainCell("baseline", 200, 20, "{}", true),
      trainCell("higher lr", 2500, 100, "{ lr: 0.1 }"),
    ]);
  });

  it("shows a run card with a chart that has data, and the panel counts running runs", async () => {
    await openNotebook(ui.page, ui.lab, "train.ipynb");
    await openPanel(ui.page);
    await setRightSidebarWidth(ui.page, 420);
    await startCommand(ui.page, "notebook:run-all-cells");
    // While a cell runs, the panel's running count goes above zero.
    await ui.page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>("#jp-labnote-experiments .jp-labnote-live-summary")?.dataset.running ?? 0) >= 1,
      undefined,
      { timeout: 120_000 },
    );
    assert.ok((await runningCount(ui.page)) >= 1);
    await ui.page.waitForSelector("#jp-labnote-experiments .jp-labnote-run[data-status=running]");
    await ui.page.waitForFunction(() => document.querySelectorAll("#jp-labnote-experiments .jp-labnote-run[data-status=completed]").length >= 2, undefined, {
      timeout: 180_000,
    });
    assert.equal(await runningCount(ui.page), 0);
    const cards = ui.page.locator(".jp-OutputArea .jp-labnote-card");
    assert.equal(await cards.count(), 2);
    await ui.page.waitForTimeout(300);
    assert.ok((await paintedPixels(ui.page, ".jp-OutputArea .jp-labnote-card")) > 2000, "the card's charts are drawn");
    const text = (await cards.first().textContent()) ?? "";
    assert.match(text, /completed/);
    assert.match(text, /baseline/);
    assert.match(text, /loss/);
    // Newest first in the panel.
    const names = await ui.page.locator("#jp-labnote-experiments .jp-labnote-run-name").allInnerTexts();
    assert.deepEqual(names, ["higher lr", "baseline"]);
  });

  it("opens an artifact in JupyterLab when clicked in the panel", async () => {
    await ui.page.click('#jp-labnote-experiments .jp-labnote-run:has-text("baseline")');
    await ui.page.waitForSelector('#jp-labnote-experiments .jp-labnote-run.jp-labnote-selected:has-text("baseline")', { timeout: 5_000 });
    const link = ui.page.locator('#jp-labnote-experiments .jp-labnote-live .jp-labnote-artifact-name:has-text("summary")');
    await link.waitFor({ timeout: 20_000 });
    await link.click();
    try {
      const tab = ui.page.locator("#jp-main-dock-panel .lm-TabBar-tab .lm-TabBar-tabLabel", { hasText: "summary" });
      await tab.waitFor({ timeout: 20_000 });
      assert.match(await tab.innerText(), /summary/);
      // The file's content is on screen in the main area.
      await ui.page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget?.node.innerText.includes("best"), undefined, { timeout: 20_000 });
    } finally {
      await ui.page.evaluate(() => {
        const app = (window as any).jupyterapp;
        for (const w of [...app.shell.widgets("main")]) if (!w.context?.path?.endsWith(".ipynb")) w.close();
      });
    }
  });

  it("looks right in the light and the dark theme", async () => {
    mkdirSync(SHOTS, { recursive: true });
    await ui.page.click('#jp-labnote-experiments .jp-labnote-run:has-text("higher lr")');
    for (const theme of ["light", "dark"] as const) {
      await setTheme(ui.page, theme);
      await ui.page.waitForTimeout(800);
      await ui.page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, `panel-live-${theme}.png`) });
      await ui.page.locator(".jp-OutputArea .jp-labnote-card").first().screenshot({ path: path.join(SHOTS, `card-${theme}.png`) });
      await ui.page.screenshot({ path: path.join(SHOTS, `lab-${theme}.png`) });
    }
    await setTheme(ui.page, "light");
  });

  it("shows the history from disk after a page reload, sortable, filterable and comparable", async () => {
    await ui.page.reload();
    await ui.page.waitForSelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", { timeout: 60_000 });
    await openPanel(ui.page);
    await ui.page.click("#jp-labnote-experiments .jp-labnote-tab[data-tab=history]");
    const rows = ui.page.locator("#jp-labnote-experiments .jp-labnote-history-table tbody tr[data-id]");
    await ui.page.waitForFunction(() => document.querySelectorAll("#jp-labnote-experiments .jp-labnote-history-table tbody tr[data-id]").length >= 2, undefined, {
      timeout: 30_000,
    });
    assert.equal(await rows.count(), 2);
    const statuses = await ui.page.locator("#jp-labnote-experiments .jp-labnote-history-table tbody td.jp-labnote-status-text").allInnerTexts();
    assert.deepEqual(statuses, ["completed", "completed"]);
    // The varying config key is a column; sorting by it puts lr 0.01 first.
    await ui.page.click('#jp-labnote-experiments .jp-labnote-history-table th[data-col="config:lr"]');
    assert.match(await rows.first().innerText(), /baseline/);
    await ui.page.click('#jp-labnote-experiments .jp-labnote-history-table th[data-col="config:lr"]');
    assert.match(await rows.first().innerText(), /higher lr/);
    await ui.page.fill("#jp-labnote-experiments .jp-labnote-filter", "baseline");
    assert.equal(await rows.count(), 1);
    // The query language of labnote ls --filter: a config key compared as a number.
    await ui.page.fill("#jp-labnote-experiments .jp-labnote-filter", "lr=0.01 status=completed");
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /baseline/);
    await ui.page.fill("#jp-labnote-experiments .jp-labnote-filter", "lr<<1");
    const note = ui.page.locator("#jp-labnote-experiments .jp-labnote-filter-note.jp-labnote-error");
    await note.waitFor({ state: "visible", timeout: 10_000 });
    assert.match(await note.innerText(), /unexpected "<" .*\(column 4\)\nlr<<1\n {3}\^/);
    assert.equal(await rows.count(), 2, "a filter that does not parse filters nothing");
    await ui.page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, "panel-filter-error.png") });
    await ui.page.fill("#jp-labnote-experiments .jp-labnote-filter", "");
    assert.ok(await note.isHidden());
    const boxes = ui.page.locator("#jp-labnote-experiments .jp-labnote-history-table tbody input[type=checkbox]");
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await ui.page.waitForSelector("#jp-labnote-experiments .jp-labnote-compare canvas", { timeout: 20_000 });
    const compare = await ui.page.locator("#jp-labnote-experiments .jp-labnote-compare").innerText();
    assert.match(compare, /Comparing 2 runs/);
    assert.match(compare, /1 differ/);
    await ui.page.waitForTimeout(500);
    assert.ok((await paintedPixels(ui.page, "#jp-labnote-experiments .jp-labnote-compare")) > 2000);
    for (const theme of ["light", "dark"] as const) {
      await setTheme(ui.page, theme);
      await ui.page.waitForTimeout(800);
      await ui.page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, `panel-history-${theme}.png`) });
    }
    await setTheme(ui.page, "light");
  });

  it("marks a run died at once when its kernel is killed mid-run", async () => {
    writeNotebook(path.join(ui.lab.root, "kill.ipynb"), [
      `import { experiment } from "labnote";
const exp = await experiment("doomed", { config: { lr: 0.01 } });`,
      trainCell("forever", 100000, 10),
    ]);
    await openNotebook(ui.page, ui.lab, "kill.ipynb");
    await openPanel(ui.page);
    await startCommand(ui.page, "notebook:run-all-cells");
    await ui.page.waitForSelector('#jp-labnote-experiments .jp-labnote-run[data-status="running"]', { timeout: 120_000 });
    const kernelId = await ui.page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel.id as string);
    const pids = kernelPids(kernelId);
    assert.ok(pids.length > 0, "found the kernel process");
    const killedAt = Date.now();
    for (const pid of pids) process.kill(pid, "SIGKILL");
    await ui.page.waitForSelector('#jp-labnote-experiments .jp-labnote-run[data-status="died"]', { timeout: 15_000 });
    const after = Date.now() - killedAt;
    assert.equal(await runningCount(ui.page), 0);
    assert.match(await ui.page.locator("#jp-labnote-experiments .jp-labnote-live .jp-labnote-card .jp-labnote-badge").first().innerText(), /died/);
    // The cell's card, which its dead kernel can no longer update, says so too.
    await ui.page.waitForSelector('.jp-OutputArea .jp-labnote-card[data-status="died"]', { timeout: 5_000 });
    mkdirSync(SHOTS, { recursive: true });
    await ui.page.screenshot({ path: path.join(SHOTS, "lab-died-light.png") });
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
    writeNotebook(path.join(ui.lab.root, "bundles.ipynb"), [
      sendBundleCode(JSON.stringify(bundle(evil)), "evil", false),
      sendBundleCode(JSON.stringify(newer), "newer", false),
      sendBundleCode(JSON.stringify(malformed), "bad", false),
    ]);
    await openNotebook(ui.page, ui.lab, "bundles.ipynb");
    await command(ui.page, "notebook:run-all-cells");
    await ui.page.waitForSelector(`${HERE} .jp-labnote-card`, { timeout: 60_000 });
    await ui.page.waitForFunction((here) => document.querySelectorAll(`${here} .jp-labnote-note`).length >= 2, HERE, { timeout: 60_000 });
    await ui.page.waitForTimeout(500);
    const card = ui.page.locator(`${HERE} .jp-labnote-card`).first();
    assert.equal(await card.locator("img").count(), 0, "no element was made from kernel text");
    assert.ok((await card.innerText()).includes("<img src=x"), "kernel text is shown as text");
    assert.equal(await ui.page.evaluate(() => document.body.dataset.pwned), undefined);
    const notes = await ui.page.locator(`${HERE} .jp-labnote-note`).allInnerTexts();
    assert.match(notes[0], /newer than this reader/);
    assert.match(notes[1], /not a string|malformed/);
    assert.match(await ui.page.locator(`${HERE} .jp-labnote-fallback`).nth(1).innerText(), /plain fallback/);
    // The panel lists the hostile run with its name as text too.
    assert.equal(await ui.page.locator("#jp-labnote-experiments img:not(.jp-labnote-artifact-preview)").count(), 0);
  });

  it("follows the active notebook, with a hint for a notebook without runs", async () => {
    await openPanel(ui.page);
    await ui.page.waitForSelector('#jp-labnote-experiments .jp-labnote-run-name:has-text("<img")');
    assert.equal(await ui.page.locator("#jp-labnote-experiments .jp-labnote-panel-notebook").innerText(), "bundles.ipynb");
    writeNotebook(path.join(ui.lab.root, "empty.ipynb"), ["1 + 1"]);
    await command(ui.page, "docmanager:open", { path: "empty.ipynb" });
    await ui.page.waitForFunction(() => document.querySelector("#jp-labnote-experiments .jp-labnote-panel-notebook")?.textContent === "empty.ipynb", undefined, { timeout: 30_000 });
    const hint = ui.page.locator("#jp-labnote-experiments .jp-labnote-hint").first();
    await hint.waitFor();
    assert.match(await hint.innerText(), /No runs in this kernel session yet|No labnote runs/);
    assert.equal(await ui.page.locator("#jp-labnote-experiments .jp-labnote-run").count(), 0);
    await ui.page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, "panel-hint-light.png") });
    // Back to the first notebook: its runs are still there.
    await ui.page.click('#jp-main-dock-panel .lm-TabBar-tab:has-text("bundles.ipynb")');
    await ui.page.waitForFunction(() => document.querySelector("#jp-labnote-experiments .jp-labnote-panel-notebook")?.textContent === "bundles.ipynb");
    assert.equal(await ui.page.locator("#jp-labnote-experiments .jp-labnote-run").count(), 1);
  });

  it("updates a card in place: same nodes, same charts, after many updates", async () => {
    // Each update a millisecond newer than the last, as a kernel's are (the panel keeps the newest).
    const updates = Array.from({ length: 60 }, (_, k) => {
      const p = runPayload({ experiment: "inplace", steps: 50 + k * 40 });
      p.sentAt += k;
      return bundle(p);
    });
    writeNotebook(path.join(ui.lab.root, "inplace.ipynb"), [
      sendBundleCode(JSON.stringify(updates[0]), "inplace", false),
      `const updates = ${JSON.stringify(updates.slice(1))};
for (const u of updates) {
  ${sendBundleCode("u", "inplace", true)};
  await new Promise((r) => setTimeout(r, 50));
}`,
    ]);
    await openNotebook(ui.page, ui.lab, "inplace.ipynb");
    await command(ui.page, "notebook:run-cell-and-select-next");
    await ui.page.waitForSelector(`${HERE} .jp-labnote-card canvas`);
    await ui.page.evaluate((here) => {
      const card = document.querySelector<HTMLElement>(`${here} .jp-labnote-card`)!;
      card.dataset.probe = "first";
      card.querySelectorAll("canvas").forEach((c) => (c.dataset.probe = "first"));
    }, HERE);
    await command(ui.page, "notebook:run-cell-and-select-next");
    await ui.page.waitForFunction((here) => /step 2409/.test(document.querySelector(`${here} .jp-labnote-card`)?.textContent ?? ""), HERE, { timeout: 60_000 });
    await ui.page.waitForTimeout(300);
    const state = await ui.page.evaluate((here) => ({
      cards: document.querySelectorAll(`${here} .jp-labnote-card`).length,
      same: document.querySelector<HTMLElement>(`${here} .jp-labnote-card`)?.dataset.probe,
      canvases: document.querySelectorAll(`${here} .jp-labnote-card canvas`).length,
      sameCanvases: document.querySelectorAll(`${here} .jp-labnote-card canvas[data-probe="first"]`).length,
    }), HERE);
    assert.deepEqual(state, { cards: 1, same: "first", canvases: 2, sameCanvases: 2 });
  });
});
