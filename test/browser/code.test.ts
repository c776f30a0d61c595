/**
 * A run's code in the panel: real JupyterLab, real tslab kernel, Chromium. A notebook whose
 * training function is edited and re-run between two runs, with a failing cell between: the
 * second run's detail lists its cells and its lineage in JupyterLab's read-only editor with
 * status and time per cell; clicking a cell's count or a History row's "from" scrolls the
 * notebook to that cell; Open as notebook writes the export's reproduction beside the notebook
 * and opens it; ticking both runs shows the code diff beside the config diff.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { command, openNotebook, openPanel, repo, setRightSidebarWidth, setTheme, useLab, waitKernelIdle, writeNotebook } from "./lab";

const SHOTS = path.join(repo, "screenshots");
const P = "#jp-labnote-experiments";
const NB = "coded.ipynb";

const TRAIN_1 = `function train(run: any, lr: number) {\n  const r = run.random();\n  for (let i = 0; i < 5; i++) run.log("loss", (lr * r) / (i + 1));\n}`;
const TRAIN_2 = `function train(run: any, lr: number) {\n  const r = run.random();\n  for (let i = 0; i < 5; i++) run.log("loss", (lr * r) / (i + 2));\n}`;

/** Run the notebook's cell `index` and wait until the kernel is idle again; its execution count. */
async function runCell(page: Page, index: number): Promise<number> {
  const before = await page.evaluate((i) => {
    const nb = (window as any).jupyterapp.shell.currentWidget.content;
    nb.activeCellIndex = i;
    return nb.widgets[i].model.executionCount as number | null;
  }, index);
  const ran = (timeout: number) =>
    page.waitForFunction(
      ([i, before]) => {
        const count = (window as any).jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount;
        return typeof count === "number" && count !== before;
      },
      [index, before] as const,
      { timeout },
    );
  await command(page, "notebook:run-cell");
  try {
    await ran(120_000);
  } catch {
    // JupyterLab dropped the request (seen once on a loaded machine with the kernel idle): ask once more.
    await waitKernelIdle(page);
    const late = await ran(5_000).then(() => true, () => false);
    if (!late) {
      await command(page, "notebook:run-cell");
      await ran(120_000);
    }
  }
  await waitKernelIdle(page);
  return page.evaluate((i) => (window as any).jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount, index);
}

async function activeCell(page: Page): Promise<{ path: string; index: number }> {
  return page.evaluate(() => {
    const w = (window as any).jupyterapp.shell.currentWidget;
    return { path: w.context.path, index: w.content.activeCellIndex };
  });
}

describe("a run's code in the panel", { timeout: 900_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1600, height: 1100 } } });
  const counts: number[] = [];

  before(async () => {
    writeNotebook(path.join(ui.lab.root, NB), [
      `import { experiment } from "labnote";\nconst exp = await experiment("coded", { config: { lr: 0.1 } });`,
      TRAIN_1,
      `await exp.run((run) => train(run, run.config.lr), { name: "first" });`,
      `throw new Error("this cell fails on purpose");`,
      `await exp.run((run) => train(run, run.config.lr), { name: "second", config: { lr: 0.05 } });`,
    ]);
    await openNotebook(ui.page, ui.lab, NB);
    await openPanel(ui.page);
    await setRightSidebarWidth(ui.page, 560);
    for (const i of [0, 1, 2, 3]) counts[i] = await runCell(ui.page, i);
    // The training function edited in place and run again, then the second run.
    await ui.page.evaluate((src) => (window as any).jupyterapp.shell.currentWidget.content.widgets[1].model.sharedModel.setSource(src), TRAIN_2);
    counts[5] = await runCell(ui.page, 1);
    counts[4] = await runCell(ui.page, 4);
    await command(ui.page, "docmanager:save");
    await ui.page.waitForSelector(`${P} .jp-labnote-run[data-status="completed"]`, { timeout: 120_000 });
  });

  async function openHistoryRun(number: number): Promise<void> {
    await ui.page.click(`${P} .jp-labnote-tab[data-tab=history]`);
    const row = ui.page.locator(`${P} .jp-labnote-history-table tbody tr[data-id="coded/${number}"]`);
    await row.waitFor({ timeout: 60_000 });
    await row.locator("td").nth(2).click();
    await ui.page.waitForSelector(`${P} .jp-labnote-code-list .jp-labnote-code-cell`, { timeout: 60_000 });
  }

  it("lists the run's cells and its lineage in JupyterLab's read-only editor, with status and time per cell", async () => {
    await openHistoryRun(2);
    const tabs = await ui.page.locator(`${P} .jp-labnote-code-tab`).allInnerTexts();
    assert.deepEqual(tabs, ["This run · 1", "Lineage · 6"]);
    // This run: the cell that ran while it was open.
    const own = ui.page.locator(`${P} .jp-labnote-code-list .jp-labnote-code-cell`);
    assert.equal(await own.count(), 1);
    assert.equal(await own.first().locator(".jp-labnote-code-count").innerText(), `[${counts[4]}]`);
    assert.match(await own.first().locator(".cm-content").innerText(), /name: "second"/);
    // Read-only: typing into it changes nothing.
    const before = await own.first().locator(".cm-content").innerText();
    await own.first().locator(".cm-content").click();
    await ui.page.keyboard.type("zzz");
    await ui.page.keyboard.press("Backspace");
    assert.equal(await own.first().locator(".cm-content").innerText(), before);
    assert.equal(await own.first().locator(".cm-editor.jp-mod-readOnly").count(), 1);

    await ui.page.click(`${P} .jp-labnote-code-tab[data-scope=lineage]`);
    const cells = ui.page.locator(`${P} .jp-labnote-code-list .jp-labnote-code-cell`);
    await ui.page.waitForFunction((sel) => document.querySelectorAll(sel).length === 6, `${P} .jp-labnote-code-list .jp-labnote-code-cell`);
    const heads = await cells.locator(".jp-labnote-code-count").allInnerTexts();
    assert.deepEqual(heads, [counts[0], counts[1], counts[2], counts[3], counts[5], counts[4]].map((c) => `[${c}]`), "in execution order, as executed");
    const sources = await cells.locator(".cm-content").allInnerTexts();
    assert.match(sources[1], /\(i \+ 1\)/, "the function as it was first run");
    assert.match(sources[4], /\(i \+ 2\)/, "the function as edited and run again");
    // Highlighted by JupyterLab's editor (CodeMirror tokens), not plain text.
    await ui.page.waitForFunction((sel) => document.querySelectorAll(sel).length > 3, `${P} .jp-labnote-code-list .jp-labnote-code-cell:nth-child(2) .cm-line span`, { timeout: 20_000 });
    const statuses = await cells.locator(".jp-labnote-code-status").allInnerTexts();
    assert.deepEqual(statuses, ["✓ ok", "✓ ok", "✓ ok", "✗ failed", "✓ ok", "✓ ok"]);
    assert.match(await cells.nth(3).locator(".jp-labnote-code-error").innerText(), /this cell fails on purpose/);
    for (const took of await cells.locator(".jp-labnote-code-took").allInnerTexts()) assert.match(took, /\d( ms| s)$/);
    assert.equal(await cells.nth(5).locator(".jp-labnote-code-during").count(), 1, "the run's own cell is marked");
    mkdirSync(SHOTS, { recursive: true });
    await ui.page.locator(`${P} .jp-labnote-code`).screenshot({ path: path.join(SHOTS, "panel-code-lineage-light.png") });
    await setTheme(ui.page, "dark");
    await ui.page.locator(`${P} .jp-labnote-code`).screenshot({ path: path.join(SHOTS, "panel-code-lineage-dark.png") });
    await setTheme(ui.page, "light");
  });

  it("scrolls the notebook to a cell clicked in the lineage, and says when that cell has been run again since", async () => {
    await openHistoryRun(2);
    await ui.page.click(`${P} .jp-labnote-code-tab[data-scope=lineage]`);
    await ui.page.evaluate(() => ((window as any).jupyterapp.shell.currentWidget.content.activeCellIndex = 0));
    const cells = ui.page.locator(`${P} .jp-labnote-code-list .jp-labnote-code-cell`);
    await cells.nth(5).waitFor();
    await cells.nth(2).locator(".jp-labnote-code-count").click();
    await ui.page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget.content.activeCellIndex === 2);
    assert.deepEqual(await activeCell(ui.page), { path: NB, index: 2 });
    // The function's first version ran as [counts[1]]; that cell has been run again since.
    await cells.nth(1).locator(".jp-labnote-code-count").click();
    const notice = ui.page.locator(`${P} .jp-labnote-notice`);
    await notice.waitFor({ state: "visible" });
    assert.match(await notice.innerText(), new RegExp(`Cell \\[${counts[1]}\\] is no longer in ${NB.replace(".", "\\.")}`));
    // A History row's "from" (coded.ipynb [n]) goes to the cell that started the run.
    await ui.page.evaluate(() => ((window as any).jupyterapp.shell.currentWidget.content.activeCellIndex = 0));
    const from = ui.page.locator(`${P} .jp-labnote-history-table tbody tr[data-id="coded/2"] td.jp-labnote-from-col`);
    assert.equal(await from.innerText(), `${NB} [${counts[4]}]`);
    await from.click();
    await ui.page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget.content.activeCellIndex === 4);
  });

  it("opens the run as a notebook: the export's reproduction, written beside the notebook", async () => {
    await openHistoryRun(2);
    await ui.page.click(`${P} .jp-labnote-open-notebook`);
    await ui.page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget?.context?.path === "coded-2.reproduce.ipynb", undefined, { timeout: 60_000 });
    const file = path.join(ui.lab.root, "coded-2.reproduce.ipynb");
    assert.ok(existsSync(file));
    const written = JSON.parse(readFileSync(file, "utf8"));
    const cli = JSON.parse(
      execFileSync(process.execPath, [path.join(repo, "lib", "cli", "main.js"), "export", "coded/2", "--to", "notebook", "--root", path.join(ui.lab.root, "experiments")], { encoding: "utf8" }),
    );
    assert.deepEqual(
      written.cells.map((c: { source: string | string[] }) => (Array.isArray(c.source) ? c.source.join("") : c.source)),
      cli.cells.map((c: { source: string | string[] }) => (Array.isArray(c.source) ? c.source.join("") : c.source)),
      "the same notebook as labnote export --to notebook",
    );
    assert.equal(written.metadata.labnote.reproduces, "coded/2");
    await ui.page.waitForSelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", { timeout: 60_000 });
    await ui.page.screenshot({ path: path.join(SHOTS, "panel-open-as-notebook-light.png") });
    // A second click writes the same file again (an earlier reproduction of the same run), no new name.
    await ui.page.evaluate((nb) => (window as any).jupyterapp.commands.execute("docmanager:open", { path: nb }), NB);
    await ui.page.waitForFunction((nb) => (window as any).jupyterapp.shell.currentWidget?.context?.path === nb, NB);
    await openHistoryRun(2);
    await ui.page.click(`${P} .jp-labnote-open-notebook`);
    await ui.page.waitForFunction(() => (window as any).jupyterapp.shell.currentWidget?.context?.path === "coded-2.reproduce.ipynb", undefined, { timeout: 60_000 });
    assert.ok(!existsSync(path.join(ui.lab.root, "coded-2.reproduce-2.ipynb")));
  });

  it("compares two runs' code beside their config", async () => {
    await ui.page.evaluate((nb) => (window as any).jupyterapp.commands.execute("docmanager:open", { path: nb }), NB);
    await ui.page.waitForFunction((nb) => (window as any).jupyterapp.shell.currentWidget?.context?.path === nb, NB);
    await ui.page.click(`${P} .jp-labnote-tab[data-tab=history]`);
    for (const n of [1, 2]) await ui.page.locator(`${P} .jp-labnote-history-table tbody tr[data-id="coded/${n}"] input[type=checkbox]`).check();
    const diff = ui.page.locator(`${P} .jp-labnote-compare .jp-labnote-code-diff`);
    await diff.waitFor({ timeout: 60_000 });
    const title = await diff.locator(".jp-labnote-section-title").innerText();
    assert.match(title, /Code diff · \d+ cells? differ/);
    const changed = diff.locator(".jp-labnote-diff-changed");
    assert.ok((await changed.count()) >= 1, "the edited function is a changed cell");
    const lines = await changed.first().locator(".jp-labnote-diff-line").allInnerTexts();
    assert.ok(lines.some((l) => /^- .*\(i \+ 1\)/.test(l)) && lines.some((l) => /^\+ .*\(i \+ 2\)/.test(l)), lines.join("\n"));
    assert.match(await ui.page.locator(`${P} .jp-labnote-compare`).innerText(), /Config diff · 1 differ/);
    await ui.page.locator(`${P} .jp-labnote-compare`).screenshot({ path: path.join(SHOTS, "panel-compare-code-light.png") });
  });
});
