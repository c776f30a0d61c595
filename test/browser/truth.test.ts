/**
 * One truth on every screen: what the card in the cell, the Experiments panel and run.json say
 * agree after a kernel restart and a page reload; NaN and infinite points are seen; binary
 * artifacts download instead of failing in the text editor; History follows the notebook and
 * says what it could not read. Real JupyterLab, real tslab kernel, real files, Chromium.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { command, openNotebook, openPanel, paintedPixels, repo, startCommand, useLab, writeNotebook } from "./lab";

const SHOTS = path.join(repo, "screenshots");
const PANEL = "#jp-labnote-experiments";
/** Outputs of the notebook on screen (other notebooks' tabs keep their cards, hidden). */
const CELL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea";
// A 4×4 red PNG.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEklEQVR4nGP4z8AARLgQFSQBAJ6VD/HhTXIWAAAAAElFTkSuQmCC";

/** The colour of the marks for NaN/∞ points (the extension's NONFINITE_COLOR, #e8112d). */
const MARK: [number, number, number] = [0xe8, 0x11, 0x2d];

async function statusOnDisk(file: string): Promise<string> {
  return JSON.parse(readFileSync(file, "utf8")).status as string;
}

async function reloadLab(page: Page, file: string): Promise<void> {
  await page.reload();
  await page.waitForFunction((f) => (window as any).jupyterapp?.shell?.currentWidget?.context?.path === f, file, { timeout: 60_000 });
  await page.waitForSelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", { timeout: 60_000 });
}

/** The step the first metric of the card matching `selector` last reached. */
async function cardStep(page: Page, selector: string): Promise<number> {
  const text = (await page.locator(selector).first().locator(".jp-labnote-metric-range").first().textContent()) ?? "";
  return Number(/step (\d+)/.exec(text)?.[1] ?? NaN);
}

describe("one truth on every screen", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1500, height: 1000 }, acceptDownloads: true } });

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
  });
  // What the page looked like at the end of each test, failed or not.
  afterEach(async (t) => {
    await Promise.resolve()
      .then(() => ui.page.screenshot({ path: path.join(SHOTS, `truth-end-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}.png`) }))
      .catch(() => undefined);
  });

  it("after a kernel restart mid-run, the card and the panel say what run.json says: interrupted", async () => {
    writeNotebook(path.join(ui.lab.root, "restart.ipynb"), [
      `import { experiment } from "labnote";
const exp = await experiment("restarted");`,
      `await exp.run(async (run) => {
  for (let i = 0; i < 100000; i++) { run.log("loss", 1 / (i + 1), i); if (i % 10 === 0) await new Promise((r) => setTimeout(r, 50)); }
}, { name: "long" });`,
    ]);
    await openNotebook(ui.page, ui.lab, "restart.ipynb");
    await openPanel(ui.page);
    await startCommand(ui.page, "notebook:run-all-cells");
    await ui.page.waitForSelector(`${CELL} .jp-labnote-card[data-status="running"] canvas`, { timeout: 120_000 });
    await ui.page.evaluate(() => void (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart());
    const file = path.join(ui.lab.root, "experiments", "restarted", "1", "run.json");
    const deadline = Date.now() + 30_000;
    while ((await statusOnDisk(file)) === "running" && Date.now() < deadline) await ui.page.waitForTimeout(200);
    const onDisk = await statusOnDisk(file);
    assert.equal(onDisk, "interrupted", "the kernel wrote interrupted when it was restarted");
    await ui.page.waitForSelector(`${PANEL} .jp-labnote-run[data-status="${onDisk}"]`, { timeout: 60_000 });
    await ui.page.waitForSelector(`${CELL} .jp-labnote-card[data-status="${onDisk}"]`, { timeout: 60_000 });
    await ui.page.waitForTimeout(1000);
    // Nothing later turns it into died.
    assert.equal(await ui.page.locator(`${PANEL} .jp-labnote-run`).first().getAttribute("data-status"), onDisk);
    assert.equal(await ui.page.locator(`${CELL} .jp-labnote-card`).first().getAttribute("data-status"), onDisk);
    assert.equal(await ui.page.locator(`${PANEL} .jp-labnote-live .jp-labnote-card`).getAttribute("data-status"), onDisk);
    await ui.page.screenshot({ path: path.join(SHOTS, "truth-restart-interrupted.png") });
  });

  it("after a page reload mid-run, the panel shows the run running and the cell's card follows it again", async () => {
    const flag = path.join(ui.lab.root, "short.flag");
    writeNotebook(path.join(ui.lab.root, "reload.ipynb"), [
      `import { experiment } from "labnote";
import * as fs from "node:fs";
const exp = await experiment("reloaded");`,
      `await exp.run(async (run) => {
  for (let i = 0; i < 100000; i++) {
    run.log("loss", 1 / (i + 1), i);
    if (i >= 5 && fs.existsSync("short.flag")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, { name: "long" });`,
    ]);
    writeFileSync(flag, "");
    await openNotebook(ui.page, ui.lab, "reload.ipynb");
    await openPanel(ui.page);
    // The first run ends quickly and the notebook is saved with its card.
    await command(ui.page, "notebook:run-all-cells");
    await ui.page.waitForSelector(`${CELL} .jp-labnote-card[data-status="completed"]`, { timeout: 120_000 });
    await command(ui.page, "docmanager:save");
    // The cell runs again, a long run; the page is reloaded without saving.
    rmSync(flag);
    await startCommand(ui.page, "notebook:run-cell");
    await ui.page.waitForSelector(`${CELL} .jp-labnote-card[data-status="running"]:has-text("reloaded/2")`, { timeout: 60_000 });
    await ui.page.waitForFunction(
      () => {
        const card = [...document.querySelectorAll(".jp-OutputArea .jp-labnote-card[data-status=running]")].find((c) => c.textContent?.includes("reloaded/2"));
        return /step ([3-9]|\d\d)/.test(card?.querySelector(".jp-labnote-metric-range")?.textContent ?? "");
      },
      undefined,
      { timeout: 30_000 },
    );
    try {
      await reloadLab(ui.page, "reload.ipynb");
      await openPanel(ui.page);
      // The panel finds the run from its record and heartbeat, and does not call the kernel idle beside it.
      await ui.page.waitForSelector(`${PANEL} .jp-labnote-live-summary[data-running="1"]`, { timeout: 30_000 });
      await ui.page.waitForSelector(`${PANEL} .jp-labnote-run[data-status="running"]:has-text("reloaded/2")`);
      const kernel = await ui.page.locator(`${PANEL} .jp-labnote-kernel`).innerText();
      assert.doesNotMatch(kernel, /idle/);
      assert.match(kernel, /1 run running/);
      // The cell held the saved card of the first run: it now shows the run the cell is running, and updates.
      const card = `${CELL} .jp-labnote-card[data-status="running"]:has-text("reloaded/2")`;
      await ui.page.waitForSelector(card, { timeout: 30_000 });
      const first = await cardStep(ui.page, card);
      await ui.page.waitForFunction(
        (s) => {
          const card = [...document.querySelectorAll(".jp-OutputArea .jp-labnote-card[data-status=running]")].find((c) => c.textContent?.includes("reloaded/2"));
          return Number(/step (\d+)/.exec(card?.querySelector(".jp-labnote-metric-range")?.textContent ?? "")?.[1] ?? -1) > s + 3;
        },
        first,
        { timeout: 30_000 },
      );
      await ui.page.screenshot({ path: path.join(SHOTS, "truth-reload-running.png") });
    } finally {
      writeFileSync(flag, "");
    }
    await ui.page.waitForSelector(`${CELL} .jp-labnote-card[data-status="completed"]:has-text("reloaded/2")`, { timeout: 60_000 });
  });

  it("counts NaN and infinite points in the card's and the panel's summaries and marks them on the charts", async () => {
    writeNotebook(path.join(ui.lab.root, "nan.ipynb"), [
      `import { experiment } from "labnote";
const exp = await experiment("diverging");
await exp.run(async (run) => {
  for (let i = 0; i < 300; i++) run.log("loss", i === 120 || i === 121 ? NaN : i === 200 ? Infinity : 2 / (i + 1), i);
}, { name: "blows up" });`,
    ]);
    await openNotebook(ui.page, ui.lab, "nan.ipynb");
    await openPanel(ui.page);
    await command(ui.page, "notebook:run-all-cells");
    const card = `${CELL} .jp-labnote-card[data-status="completed"]`;
    await ui.page.waitForSelector(`${card} canvas`, { timeout: 120_000 });
    await ui.page.waitForSelector(`${PANEL} .jp-labnote-live .jp-labnote-card[data-status="completed"] canvas`, { timeout: 30_000 });
    for (const sel of [card, `${PANEL} .jp-labnote-live .jp-labnote-card`]) {
      const summary = await ui.page.locator(`${sel} .jp-labnote-metric-range`).first().innerText();
      assert.match(summary, /2 NaN · 1 ∞/, `${sel}: ${summary}`);
      let marks = 0;
      for (let k = 0; k < 20 && marks === 0; k++) {
        await ui.page.waitForTimeout(250);
        marks = await paintedPixels(ui.page, sel, MARK);
      }
      assert.ok(marks > 10, `${sel}: the chart marks the NaN/∞ points (${marks} pixels)`);
    }
    await ui.page.locator(card).first().screenshot({ path: path.join(SHOTS, "truth-nan-card.png") });
    await ui.page.locator(PANEL).screenshot({ path: path.join(SHOTS, "truth-nan-panel.png") });
  });

  it("opens JSON, CSV and image artifacts in JupyterLab and offers a .npy as a download, never the text editor", async () => {
    writeNotebook(path.join(ui.lab.root, "files.ipynb"), [
      `import { experiment } from "labnote";
import * as fs from "node:fs";
const exp = await experiment("files");
fs.writeFileSync("red.png", Buffer.from(${JSON.stringify(PNG)}, "base64"));
fs.writeFileSync("table.csv", "a,b\\n1,2\\n");
await exp.run(async (run) => {
  run.log("x", 1);
  await run.save(new Float32Array([1, 2, 3]), "weights");
  await run.save({ best: 0.97 }, "summary");
  await run.addArtifact("table.csv", { name: "table.csv" });
  await run.addArtifact("red.png", { name: "red.png" });
}, { name: "with files" });`,
    ]);
    await openNotebook(ui.page, ui.lab, "files.ipynb");
    await openPanel(ui.page);
    await command(ui.page, "notebook:run-all-cells");
    const link = (name: string) => ui.page.locator(`${PANEL} .jp-labnote-live .jp-labnote-artifact-name`, { hasText: name }).first();
    await link("weights").waitFor({ timeout: 60_000 });
    await ui.page.waitForFunction((sel) => !!document.querySelector(`${sel} .jp-labnote-live a.jp-labnote-artifact-name[data-action="download"][href]`), PANEL);
    const [download] = await Promise.all([ui.page.waitForEvent("download", { timeout: 15_000 }), link("weights").click()]);
    assert.match(download.suggestedFilename(), /weights.*\.npy$/);
    await ui.page.waitForTimeout(1000);
    assert.equal(await ui.page.locator(".jp-Dialog", { hasText: /File Load Error|not UTF-8/ }).count(), 0, "no File Load Error");
    assert.equal(await ui.page.locator("#jp-main-dock-panel .lm-TabBar-tab", { hasText: ".npy" }).count(), 0, "no editor opened on the .npy");
    for (const [name, file] of [["summary", "summary.json"], ["table", "table.csv"], ["red", "red.png"]]) {
      await link(name).click();
      await ui.page.locator("#jp-main-dock-panel .lm-TabBar-tab .lm-TabBar-tabLabel", { hasText: file }).waitFor({ timeout: 20_000 });
    }
    assert.equal(await ui.page.locator(".jp-Dialog", { hasText: /File Load Error|not UTF-8/ }).count(), 0);
    await ui.page.screenshot({ path: path.join(SHOTS, "truth-artifacts-open.png") });
    await ui.page.evaluate(() => {
      const app = (window as any).jupyterapp;
      for (const w of [...app.shell.widgets("main")]) if (!w.context?.path?.endsWith(".ipynb")) w.close();
    });
  });

  it("follows the active notebook's experiment in History, and counts a damaged record as unreadable with its reason", async () => {
    for (const [file, name] of [["alpha.ipynb", "alpha"], ["beta.ipynb", "beta"]]) {
      writeNotebook(path.join(ui.lab.root, file), [
        `import { experiment } from "labnote";
const exp = await experiment(${JSON.stringify(name)});
await exp.run(async (run) => { run.log("loss", 1); }, { name: ${JSON.stringify(`${name} run`)} });`,
      ]);
      await openNotebook(ui.page, ui.lab, file);
      await command(ui.page, "notebook:run-all-cells");
      await ui.page.waitForSelector(`${CELL} .jp-labnote-card[data-status="completed"]`, { timeout: 120_000 });
    }
    // After a reload the kernels have said nothing: History must still know each notebook's experiment.
    await reloadLab(ui.page, "beta.ipynb");
    await openPanel(ui.page);
    await ui.page.click(`${PANEL} .jp-labnote-tab[data-tab=history]`);
    const menu = ui.page.locator(`${PANEL} .jp-labnote-select`);
    for (const [file, name] of [["alpha.ipynb", "alpha"], ["beta.ipynb", "beta"], ["alpha.ipynb", "alpha"]]) {
      await ui.page.click(`#jp-main-dock-panel .lm-TabBar-tab:has-text("${file}")`);
      await ui.page.waitForFunction(([sel, f]) => document.querySelector(`${sel} .jp-labnote-panel-notebook`)?.textContent === f, [PANEL, file] as const, { timeout: 30_000 });
      await ui.page.waitForFunction(([sel, n]) => document.querySelector<HTMLSelectElement>(`${sel} .jp-labnote-select`)?.value === n, [PANEL, name] as const, { timeout: 60_000 }).catch(async () => {
        const seen = await ui.page.evaluate((sel) => {
          const s = document.querySelector<HTMLSelectElement>(`${sel} .jp-labnote-select`);
          return `experiment "${s?.value}" of [${[...(s?.options ?? [])].map((o) => o.value).join(", ")}], History: ${document.querySelector(`${sel} .jp-labnote-history`)?.textContent?.slice(0, 200)}`;
        }, PANEL);
        throw new Error(`History with ${file} active never showed experiment ${name}: it shows ${seen}`);
      });
      assert.equal(await menu.inputValue(), name);
    }
    // A truncated run.json beside alpha's good run.
    const damaged = path.join(ui.lab.root, "experiments", "alpha", "2");
    mkdirSync(damaged, { recursive: true });
    const good = readFileSync(path.join(ui.lab.root, "experiments", "alpha", "1", "run.json"), "utf8");
    writeFileSync(path.join(damaged, "run.json"), good.slice(0, Math.floor(good.length / 2)));
    await ui.page.click(`${PANEL} .jp-labnote-history .jp-labnote-button:has-text("Refresh")`);
    const notice = ui.page.locator(`${PANEL} .jp-labnote-unreadable summary`);
    await notice.waitFor({ timeout: 60_000 });
    assert.equal(await notice.innerText(), "1 unreadable run");
    assert.match((await notice.getAttribute("title")) ?? "", /#2: run\.json is not valid JSON/);
    await notice.click();
    assert.match(await ui.page.locator(`${PANEL} .jp-labnote-unreadable-list`).innerText(), /#2\s+run\.json is not valid JSON.*truncated/);
    assert.equal(await ui.page.locator(`${PANEL} .jp-labnote-history-table tbody tr[data-id]`).count(), 1, "the readable run is still listed");
    await ui.page.locator(PANEL).screenshot({ path: path.join(SHOTS, "truth-unreadable.png") });
  });

  it("says a store that does not exist yet is empty, and names a store outside the server's root with what to do", async () => {
    writeNotebook(path.join(ui.lab.root, "fresh", "new.ipynb"), ["1 + 1"]);
    await openNotebook(ui.page, ui.lab, "fresh/new.ipynb");
    await openPanel(ui.page);
    await ui.page.click(`${PANEL} .jp-labnote-tab[data-tab=history]`);
    const message = ui.page.locator(`${PANEL} .jp-labnote-history-message`);
    await ui.page.waitForFunction((sel) => /No runs on disk yet under experiments\//.test(document.querySelector(`${sel} .jp-labnote-history-message`)?.textContent ?? ""), PANEL, { timeout: 60_000 });
    assert.equal(await message.evaluate((el) => el.classList.contains("jp-labnote-error")), false);
    // A person sets the panel's store root in the settings (here through the server's settings API), then reloads.
    const put = async (root: string | undefined) => {
      await ui.page.evaluate((raw) => (window as any).jupyterapp.serviceManager.settings.save("labnote-jupyterlab:panel", raw), JSON.stringify(root === undefined ? {} : { root }));
      await reloadLab(ui.page, "fresh/new.ipynb");
      await openPanel(ui.page);
      await ui.page.click(`${PANEL} .jp-labnote-tab[data-tab=history]`);
    };
    await put("../../elsewhere/experiments");
    try {
      await ui.page.waitForFunction((sel) => /outside the Jupyter server's root/.test(document.querySelector(`${sel} .jp-labnote-history-message`)?.textContent ?? ""), PANEL, { timeout: 60_000 });
      const text = await message.innerText();
      assert.match(text, /\.\.\/\.\.\/elsewhere\/experiments\/ is outside the Jupyter server's root/);
      assert.match(text, /Start JupyterLab from a folder that contains the store/);
      assert.equal(await message.evaluate((el) => el.classList.contains("jp-labnote-error")), true);
      await ui.page.locator(PANEL).screenshot({ path: path.join(SHOTS, "truth-outside-root.png") });
    } finally {
      await put(undefined);
    }
    await ui.page.waitForFunction((sel) => /No runs on disk yet/.test(document.querySelector(`${sel} .jp-labnote-history-message`)?.textContent ?? ""), PANEL, { timeout: 60_000 });
    assert.ok(existsSync(path.join(ui.lab.root, "fresh")), "reading wrote nothing else");
    assert.ok(!existsSync(path.join(ui.lab.root, "fresh", "experiments")), "reading the store never creates it");
  });
});

describe("a store the Jupyter server may not read", { timeout: 300_000 }, () => {
  // A server to which file permissions apply, as on a shared machine.
  const ui = useLab({ lab: { enforcePermissions: true }, page: false });

  it("shows a record the server may not read, and a store that is not a folder, as those failures with what to do", async () => {
    const page = await ui.browser.newPage({ viewport: { width: 1400, height: 900 } });
    writeNotebook(path.join(ui.lab.root, "locked.ipynb"), ["1 + 1"]);
    const store = path.join(ui.lab.root, "experiments", "demo");
    for (const n of [1, 2]) {
      mkdirSync(path.join(store, String(n)), { recursive: true });
      writeFileSync(path.join(store, String(n), "run.json"), JSON.stringify({ format: 1, experiment: "demo", number: n, name: `run ${n}`, status: "completed", startTime: Date.now() - 5000, endTime: Date.now(), heartbeat: Date.now() }));
    }
    // A record made by another user with a private umask.
    chmodSync(path.join(store, "2", "run.json"), 0o000);
    await openNotebook(page, ui.lab, "locked.ipynb");
    await openPanel(page);
    await page.click(`${PANEL} .jp-labnote-tab[data-tab=history]`);
    const notice = page.locator(`${PANEL} .jp-labnote-unreadable summary`);
    await notice.waitFor({ timeout: 20_000 });
    assert.equal(await notice.innerText(), "1 unreadable run");
    assert.match((await notice.getAttribute("title")) ?? "", /#2: run\.json could not be read: Permission denied: experiments\/demo\/2\/run\.json/);
    assert.equal(await page.locator(`${PANEL} .jp-labnote-history-table tbody tr[data-id]`).count(), 1);
    await notice.click();
    await page.locator(PANEL).screenshot({ path: path.join(SHOTS, "truth-permission.png") });
    // The store root is a file: the contents API refuses it, and the panel says so (not "no runs yet").
    writeNotebook(path.join(ui.lab.root, "odd", "nb.ipynb"), ["1 + 1"]);
    writeFileSync(path.join(ui.lab.root, "odd", "experiments"), "not a folder");
    await openNotebook(page, ui.lab, "odd/nb.ipynb");
    await openPanel(page);
    await page.click(`${PANEL} .jp-labnote-tab[data-tab=history]`);
    await page.waitForFunction((sel) => /cannot be read/.test(document.querySelector(`${sel} .jp-labnote-history-message`)?.textContent ?? ""), PANEL, { timeout: 20_000 });
    const text = await page.locator(`${PANEL} .jp-labnote-history-message`).innerText();
    assert.match(text, /The store experiments\/ cannot be read: the Jupyter server could not read it \(HTTP 400\)/);
    assert.match(text, /point the "Store root" setting of labnote elsewhere/);
    assert.doesNotMatch(text, /No runs on disk yet/);
    await page.locator(PANEL).screenshot({ path: path.join(SHOTS, "truth-store-not-a-folder.png") });
  });
});
