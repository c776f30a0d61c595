/**
 * The quickstart notebook, run in a real JupyterLab with the real tslab kernel and looked at
 * through Chromium: cards with charts, the panel's live runs and running count, an artifact
 * opened from the panel, and the history after a page reload.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { command, openNotebook, paintedPixels, repo, setRightSidebarWidth, setTheme, startCommand, useLab, waitCellsRan } from "./lab";

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
  const ui = useLab({ page: { viewport: { width: 1500, height: 1000 } } });

  before(async () => {
    copyFileSync(path.join(repo, "notebooks", "quickstart.ipynb"), path.join(ui.lab.root, "quickstart.ipynb"));
  });

  it("runs all cells: cards have charts with data, the panel lists the runs and counts them running", async () => {
    await openNotebook(ui.page, ui.lab, "quickstart.ipynb");
    await command(ui.page, "labnote:open-panel");
    await setRightSidebarWidth(ui.page, 440);
    // Record the highest running count the panel shows while the cells run.
    await ui.page.evaluate((sel) => {
      const w = window as any;
      w.maxRunning = 0;
      new MutationObserver(() => {
        const n = Number(document.querySelector<HTMLElement>(`${sel} .jp-labnote-live-summary`)?.dataset.running ?? 0);
        if (n > w.maxRunning) w.maxRunning = n;
      }).observe(document.querySelector(sel)!, { subtree: true, attributes: true, attributeFilter: ["data-running"] });
    }, PANEL);
    await startCommand(ui.page, "notebook:run-all-cells");
    await waitCellsRan(ui.page, 300_000);
    const errors = await ui.page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").allInnerTexts();
    assert.equal(errors.filter((t) => /Error/.test(t)).length, 0, `no cell failed:\n${errors.join("\n")}`);
    assert.ok(await ui.page.evaluate(() => (window as any).maxRunning >= 1), "the running count rose while a cell ran");
    const cards = ui.page.locator(".jp-OutputArea .jp-labnote-card");
    assert.ok((await cards.count()) >= 5, "a card per run");
    assert.ok((await paintedPixels(ui.page, ".jp-OutputArea .jp-labnote-card")) > 5000, "cards draw their charts");
    // textContent: cells scrolled out of view are not laid out (JupyterLab windows its notebooks).
    assert.match((await cards.first().textContent()) ?? "", /completed[\s\S]*baseline[\s\S]*loss/);
    const statuses = await ui.page.locator(`${PANEL} .jp-labnote-run`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.status));
    assert.ok(statuses.length >= 5, "the panel lists every run");
    assert.ok(statuses.every((s) => s === "completed"), `all completed: ${statuses.join(", ")}`);
    assert.equal(await ui.page.locator(`${PANEL} .jp-labnote-live-summary`).getAttribute("data-running"), "0");
    // The runs table payload renders as a table.
    assert.ok((await ui.page.locator(".jp-OutputArea .jp-labnote-table tbody tr").count()) >= 5);
  });

  it("opens an artifact from the panel when clicked", async () => {
    await ui.page.click(`${PANEL} .jp-labnote-run:has-text("baseline")`);
    const link = ui.page.locator(`${PANEL} .jp-labnote-live .jp-labnote-artifact-name`).first();
    await link.waitFor({ timeout: 20_000 });
    const name = (await link.innerText()).trim();
    await link.click();
    try {
      const tab = ui.page.locator("#jp-main-dock-panel .lm-TabBar-tab .lm-TabBar-tabLabel", { hasText: name });
      await tab.waitFor({ timeout: 20_000 });
      mkdirSync(SHOTS, { recursive: true });
      await ui.page.screenshot({ path: path.join(SHOTS, "quickstart-artifact-open.png") });
    } finally {
      await closeOthers(ui.page);
    }
  });

  it("looks right in both themes", async () => {
    mkdirSync(SHOTS, { recursive: true });
    for (const theme of ["light", "dark"] as const) {
      await setTheme(ui.page, theme);
      await ui.page.waitForTimeout(800);
      await ui.page.locator(PANEL).screenshot({ path: path.join(SHOTS, `quickstart-panel-${theme}.png`) });
      await ui.page.locator(".jp-OutputArea .jp-labnote-card").first().screenshot({ path: path.join(SHOTS, `quickstart-card-${theme}.png`) });
      await ui.page.screenshot({ path: path.join(SHOTS, `quickstart-lab-${theme}.png`) });
    }
    await setTheme(ui.page, "light");
  });

  it("shows the runs in History after a page reload", async () => {
    await ui.page.reload();
    await ui.page.waitForFunction(() => (window as any).jupyterapp?.shell?.currentWidget?.context?.path === "quickstart.ipynb", undefined, { timeout: 60_000 });
    await command(ui.page, "labnote:open-panel");
    await ui.page.click(`${PANEL} .jp-labnote-tab[data-tab=history]`);
    await ui.page.waitForFunction((sel) => document.querySelectorAll(`${sel} .jp-labnote-history-table tbody tr[data-id]`).length >= 5, PANEL, { timeout: 30_000 });
    const names = await ui.page.locator(`${PANEL} .jp-labnote-history-table tbody tr[data-id] td:nth-child(3)`).allInnerTexts();
    assert.ok(names.includes("baseline"), names.join(", "));
    const statuses = await ui.page.locator(`${PANEL} .jp-labnote-history-table tbody td.jp-labnote-status-text`).allInnerTexts();
    assert.ok(statuses.every((s) => s === "completed"));
    await ui.page.locator(`${PANEL}`).screenshot({ path: path.join(SHOTS, "quickstart-history-light.png") });
  });
});
