/**
 * The dashboard over the experiment index, in a real JupyterLab through Chromium: 10,000 runs
 * loaded from the index without a request per run, every row reachable by scrolling; a note and
 * a tag written while the kernel logs into that very run (both survive: the kernel's last
 * run.json and the note); a run of a plain Node script showing up and updating from disk within
 * about a second; Delete to the store's trash and Restore, the deleted number never reused.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { ANNOTATIONS_FILE, TRASH_DIR, parseAnnotations } from "../../src/protocol/index";
import { compactIndex } from "../../src/sinks/file/experiment-index";
import { writeRuns } from "./fixtures";
import { cell, D, displayLatency, scriptRun, TABLE, waitCount, waitFile } from "./dashboard-helpers";
import { command, NAME_HELPER_SCRIPT, openNotebook, repo, setTheme, startCommand, useLab, writeNotebook } from "./lab";

const SHOTS = path.join(repo, "screenshots");
const BIG = 10_000;

describe("the dashboard over the experiment index", { timeout: 900_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1500, height: 950 } }, initScripts: [NAME_HELPER_SCRIPT] });
  let store: string;
  const contentsGets: string[] = [];

  before(async () => {
    store = path.join(ui.lab.root, "experiments");
    writeRuns(ui.lab.root, "big", BIG);
    // The index as the kernel side leaves it (the next run's end would build it the same way).
    compactIndex(path.join(store, "big"), "big");
    writeNotebook(path.join(ui.lab.root, "live.ipynb"), [
      [
        'import { experiment } from "labnote";',
        'const exp = await experiment("notes", { capture: false });',
        'const run = await exp.start({ name: "kernel run", tags: ["from-kernel"] });',
        "for (let i = 0; i < 250; i++) { run.log(\"loss\", 1 / (i + 1)); await new Promise((r) => setTimeout(r, 100)); }",
        "await run.end();",
      ].join("\n"),
    ]);
    mkdirSync(SHOTS, { recursive: true });
    ui.page.on("request", (r) => {
      if (r.url().includes("/api/contents/")) contentsGets.push(decodeURIComponent(new URL(r.url()).pathname));
    });
    await openNotebook(ui.page, ui.lab, "live.ipynb");
  });

  it("loads 10,000 runs from the index without a request per run, and every row is reachable by scrolling", async () => {
    contentsGets.length = 0;
    await command(ui.page, "labnote-jupyterlab:open-dashboard");
    await waitCount(ui.page, BIG, 120_000);
    assert.match(await ui.page.locator(`${D} .jp-labnote-dashboard-count`).innerText(), new RegExp(`^${BIG} of ${BIG} runs`));
    const runJsons = contentsGets.filter((g) => g.endsWith("/run.json"));
    assert.equal(runJsons.length, 0, `run.json fetched: ${runJsons.slice(0, 5).join(", ")}`);
    assert.ok(contentsGets.some((g) => g.endsWith("/big/index.jsonl")));
    // Newest first: the first row is big/10000; the last, after scrolling to the end, big/1.
    const scroll = ui.page.locator(`${D} .jp-labnote-dashboard-scroll`);
    assert.ok(await ui.page.locator(`${TABLE} tbody tr[data-id="big/${BIG}"]`).isVisible());
    for (const [fraction, id] of [[0.5, undefined], [1, "big/1"]] as const) {
      await scroll.evaluate((el, f) => (el.scrollTop = f * el.scrollHeight), fraction);
      if (id) await ui.page.locator(`${TABLE} tbody tr[data-id="${id}"]`).waitFor({ state: "visible" });
      else await ui.page.waitForFunction((sel) => [...document.querySelectorAll(`${sel} tbody tr[data-id]`)].some((tr) => Math.abs(Number((tr as HTMLElement).dataset.id!.split("/")[1]) - 5000) < 40), TABLE);
    }
    const rows = await ui.page.locator(`${TABLE} tbody tr[data-id]`).count();
    assert.ok(rows < 150, `${rows} rows in the page: the table is virtual`);
    await scroll.evaluate((el) => (el.scrollTop = 0));
  });

  it("keeps a note written while the kernel logs into that run, and the kernel's last record; tag: queries see the tag", async () => {
    await startCommand(ui.page, "notebook:run-all-cells");
    const runDir = path.join(store, "notes", "1");
    await waitFile(path.join(runDir, "run.json"));
    await ui.page.evaluate(() => (window as any).jupyterapp.shell.activateById("labnote-dashboard"));
    await ui.page.selectOption(`${D} .jp-labnote-toolbar select.jp-labnote-select >> nth=0`, "notes", { timeout: 30_000 });
    await waitCount(ui.page, 1);
    await ui.page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "running", `${TABLE} tbody tr[data-id="notes/1"] td[data-col="status"]`);
    // Live from disk, the kernel untouched: each value the writer puts in the summary file (about
    // once a second) is on screen within a second.
    const lat = (await displayLatency(ui.page, runDir, "notes/1", 5)).sort((a, b) => a - b);
    assert.ok(lat[2] < 1000, `shown ${lat.join(", ")} ms after the summary was written (median ≥ 1 s)`);
    await cell(ui.page, "notes/1", "notes").click();
    const editor = ui.page.locator(`${D} .jp-labnote-dashboard-annotate`);
    await editor.waitFor({ state: "visible" });
    assert.match(await editor.locator(".jp-labnote-annotate-own").innerText(), /from-kernel/);
    await editor.locator(".jp-labnote-annotate-tags").fill("keep, lr-sweep");
    await editor.locator(".jp-labnote-annotate-notes").fill("Written while the kernel logs.\nSecond line.");
    await editor.locator(".jp-labnote-annotate-save").click();
    await ui.page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "saved", `${D} .jp-labnote-annotate-state`);
    const rec0 = JSON.parse(readFileSync(path.join(runDir, "run.json"), "utf8"));
    assert.equal(rec0.status, "running", "the note was written while the run was running");
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-notes-light.png") });
    // The kernel ends the run (its last run.json), the note stays.
    await ui.page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "completed", `${TABLE} tbody tr[data-id="notes/1"] td[data-col="status"]`, { timeout: 120_000 });
    const rec = JSON.parse(readFileSync(path.join(runDir, "run.json"), "utf8"));
    assert.equal(rec.status, "completed");
    assert.equal(rec.metrics.loss.count, 250);
    assert.deepEqual(rec.tags, ["from-kernel"], "run.json is never rewritten by the browser");
    const a = parseAnnotations(readFileSync(path.join(runDir, ANNOTATIONS_FILE), "utf8"));
    assert.ok(a.ok);
    assert.equal(a.value.notes, "Written while the kernel logs.\nSecond line.");
    assert.deepEqual(a.value.tags, ["keep", "lr-sweep"]);
    assert.equal(await cell(ui.page, "notes/1", "tags").innerText(), "from-kernel, keep, lr-sweep");
    assert.equal(await cell(ui.page, "notes/1", "notes").innerText(), "Written while the kernel logs.…");
    await ui.page.locator(`${D} .jp-labnote-dashboard-query`).fill("tag:keep");
    await waitCount(ui.page, 1);
    await ui.page.locator(`${D} .jp-labnote-dashboard-query`).fill("tag:nothing-such");
    await waitCount(ui.page, 0);
    await ui.page.locator(`${D} .jp-labnote-dashboard-query`).fill("");
    await ui.page.locator(`${D} .jp-labnote-dashboard-annotate button:has-text("Close")`).click();
  });

  it("shows a plain script's run within about a second of its folder, and updates it from disk", async () => {
    const done = scriptRun(store, "notes", 6);
    const at = await waitFile(path.join(store, "notes", "2", "run.json"));
    await ui.page.locator(`${TABLE} tbody tr[data-id="notes/2"]`).waitFor({ state: "attached", timeout: 10_000 });
    const shownAfter = Date.now() - at;
    assert.ok(shownAfter < 2000, `the script's run showed ${shownAfter} ms after its run.json`);
    const lat = (await displayLatency(ui.page, path.join(store, "notes", "2"), "notes/2", 3)).sort((a, b) => a - b);
    assert.ok(lat[1] < 1000, `shown ${lat.join(", ")} ms after the summary was written (median ≥ 1 s)`);
    await done;
    await ui.page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "completed", `${TABLE} tbody tr[data-id="notes/2"] td[data-col="status"]`, { timeout: 30_000 });
  });

  it("deletes runs to the store's trash and restores them; a deleted number is never given to a new run", async () => {
    await ui.page.locator(`${TABLE} tbody tr[data-id="notes/2"] input[type=checkbox]`).click();
    await ui.page.locator(`${D} .jp-labnote-delete-button`).click();
    await waitCount(ui.page, 1);
    assert.match(await ui.page.locator(`${D} .jp-labnote-dashboard-notice`).innerText(), /Moved notes\/2 to the trash/);
    assert.ok(existsSync(path.join(store, TRASH_DIR, "notes", "2", "run.json")));
    assert.ok(!existsSync(path.join(store, "notes", "2")));
    // The next run takes 3: 2 stays reserved while it is in the trash.
    await scriptRun(store, "notes", 1);
    assert.ok(existsSync(path.join(store, "notes", "3", "run.json")));
    assert.ok(!existsSync(path.join(store, "notes", "2")));
    await waitCount(ui.page, 2);
    await ui.page.locator(`${D} .jp-labnote-trash-button`).click();
    const restore = ui.page.locator(`${D} .jp-labnote-dashboard-trash button.jp-labnote-restore[data-id="notes/2"]`);
    await restore.waitFor({ state: "visible" });
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-trash-light.png") });
    await restore.click();
    await waitCount(ui.page, 3);
    assert.ok(existsSync(path.join(store, "notes", "2", "run.json")));
    assert.ok(!existsSync(path.join(store, TRASH_DIR, "notes", "2")));
    // A running run is refused, as labnote rm refuses it.
    const running = scriptRun(store, "notes", 8);
    await waitFile(path.join(store, "notes", "4", "run.json"));
    await ui.page.locator(`${TABLE} tbody tr[data-id="notes/4"]`).waitFor({ state: "attached", timeout: 10_000 });
    await ui.page.locator(`${TABLE} tbody tr[data-id="notes/4"] input[type=checkbox]`).click();
    await ui.page.locator(`${D} .jp-labnote-delete-button`).click();
    await ui.page.waitForFunction((sel) => /is running/.test(document.querySelector(sel)?.textContent ?? ""), `${D} .jp-labnote-dashboard-notice`);
    assert.ok(existsSync(path.join(store, "notes", "4")));
    await running;
  });

  it("looks right in the dark theme", async () => {
    await setTheme(ui.page, "dark");
    await cell(ui.page, "notes/1", "notes").click();
    await ui.page.locator(`${D} .jp-labnote-dashboard-annotate`).waitFor({ state: "visible" });
    await ui.page.screenshot({ path: path.join(SHOTS, "dashboard-notes-dark.png") });
    await setTheme(ui.page, "light");
  });
});
