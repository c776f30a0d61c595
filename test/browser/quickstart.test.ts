/**
 * The quickstart notebook, run in a real JupyterLab with the real tslab kernel and looked at
 * through Chromium: cards with charts, the panel's live runs and running count, an artifact
 * opened from the panel, and the history after a page reload.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { command, launchBrowser, openNotebook, paintedPixels, repo, setRightSidebarWidth, setTheme, startCommand, startLab, waitCellsRan, type Lab } from "./lab";

const SHOTS = path.join(repo, "screenshots");

/** Close every main-area tab but the notebook. */
async function closeOthers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const app = (window as any).jupyterapp;
    for (const w of [...app.shell.widgets("main")]) if (!w.context?.path?.endsWith(".ipynb")) w.close();
  });
}
const PANEL = "#jp-labnote-experiments";

describe("the quickstart notebook in JupyterLab", { timeout: 600_000 }, () => {
  let lab: Lab;
  let browser: Browser;
  let page: Page;

  before(async () => {
    lab = await startLab();
    copyFileSync(path.join(repo, "notebooks", "quickstart.ipynb"), path.join(lab.root, "quickstart.ipynb"));
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await lab?.stop();
  });

  it("runs all cells: cards have charts with data, the panel lists the runs and counts them running", async () => {
    await openNotebook(page, lab, "quickstart.ipynb");
    await command(page, "labnote:open-panel");
    await setRightSidebarWidth(page, 440);
    // Record the highest running count the panel shows while the cells run.
    await page.evaluate((sel) => {
      const w = window as any;
      w.maxRunning = 0;
      new MutationObserver(() => {
        const n = Number(document.querySelector<HTMLElement>(`${sel} .jp-labnote-live-summary`)?.dataset.running ?? 0);
        if (n > w.maxRunning) w.maxRunning = n;
      }).observe(document.querySelector(sel)!, { subtree: true, attributes: true, attributeFilter: ["data-running"] });
    }, PANEL);
    await startCommand(page, "notebook:run-all-cells");
    await waitCellsRan(page, 300_000);
    const errors = await page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").allInnerTexts();
    assert.equal(errors.filter((t) => /Error/.test(t)).length, 0, `no cell failed:\n${errors.join("\n")}`);
    assert.ok(await page.evaluate(() => (window as any).maxRunning >= 1), "the running count rose while a cell ran");
    const cards = page.locator(".jp-OutputArea .jp-labnote-card");
    assert.ok((await cards.count()) >= 5, "a card per run");
    assert.ok((await paintedPixels(page, ".jp-OutputArea .jp-labnote-card")) > 5000, "cards draw their charts");
    // textContent: cells scrolled out of view are not laid out (JupyterLab windows its notebooks).
    assert.match((await cards.first().textContent()) ?? "", /completed[\s\S]*baseline[\s\S]*loss/);
    const statuses = await page.locator(`${PANEL} .jp-labnote-run`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.status));
    assert.ok(statuses.length >= 5, "the panel lists every run");
    assert.ok(statuses.every((s) => s === "completed"), `all completed: ${statuses.join(", ")}`);
    assert.equal(await page.locator(`${PANEL} .jp-labnote-live-summary`).getAttribute("data-running"), "0");
    // The runs table payload renders as a table.
    assert.ok((await page.locator(".jp-OutputArea .jp-labnote-table tbody tr").count()) >= 5);
  });

  it("opens an artifact from the panel when clicked", async () => {
    await page.click(`${PANEL} .jp-labnote-run:has-text("baseline")`);
    const link = page.locator(`${PANEL} .jp-labnote-live .jp-labnote-artifact-name`).first();
    await link.waitFor({ timeout: 20_000 });
    const name = (await link.innerText()).trim();
    await link.click();
    try {
      const tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab .lm-TabBar-tabLabel", { hasText: name });
      await tab.waitFor({ timeout: 20_000 });
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, "quickstart-artifact-open.png") });
    } finally {
      await closeOthers(page);
    }
  });

  it("looks right in both themes", async () => {
    mkdirSync(SHOTS, { recursive: true });
    for (const theme of ["light", "dark"] as const) {
      await setTheme(page, theme);
      await page.waitForTimeout(800);
      await page.locator(PANEL).screenshot({ path: path.join(SHOTS, `quickstart-panel-${theme}.png`) });
      await page.locator(".jp-OutputArea .jp-labnote-card").first().screenshot({ path: path.join(SHOTS, `quickstart-card-${theme}.png`) });
      await page.screenshot({ path: path.join(SHOTS, `quickstart-lab-${theme}.png`) });
    }
    await setTheme(page, "light");
  });

  it("shows the runs in History after a page reload", async () => {
    await page.reload();
    await page.waitForFunction(() => (window as any).jupyterapp?.shell?.currentWidget?.context?.path === "quickstart.ipynb", undefined, { timeout: 60_000 });
    await command(page, "labnote:open-panel");
    await page.click(`${PANEL} .jp-labnote-tab[data-tab=history]`);
    await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .jp-labnote-history-table tbody tr[data-id]`).length >= 5, PANEL, { timeout: 30_000 });
    const names = await page.locator(`${PANEL} .jp-labnote-history-table tbody tr[data-id] td:nth-child(3)`).allInnerTexts();
    assert.ok(names.includes("baseline"), names.join(", "));
    const statuses = await page.locator(`${PANEL} .jp-labnote-history-table tbody td.jp-labnote-status-text`).allInnerTexts();
    assert.ok(statuses.every((s) => s === "completed"));
    await page.locator(`${PANEL}`).screenshot({ path: path.join(SHOTS, "quickstart-history-light.png") });
  });
});
