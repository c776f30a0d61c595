/**
 * The Experiments panel when the kernel is restarted mid-run, and image artifacts previewed in
 * the panel: real JupyterLab, real tslab kernel, Chromium.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { command, openNotebook, openPanel, repo, startCommand, useLab, writeNotebook, type Lab } from "./lab";

const SHOTS = path.join(repo, "screenshots");
// A 4×4 red PNG.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEklEQVR4nGP4z8AARLgQFSQBAJ6VD/HhTXIWAAAAAElFTkSuQmCC";

describe("the Experiments panel and a restarted kernel", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1500, height: 1000 } } });

  it("previews an image artifact in the panel", async () => {
    writeNotebook(path.join(ui.lab.root, "image.ipynb"), [
      `import { experiment } from "labnote";
import * as fs from "node:fs";
const exp = await experiment("pictures");
fs.writeFileSync("red.png", Buffer.from(${JSON.stringify(PNG)}, "base64"));`,
      `await exp.run(async (run) => { run.log("x", 1); await run.addArtifact("red.png", { name: "red.png" }); }, { name: "with image" });`,
    ]);
    await openNotebook(ui.page, ui.lab, "image.ipynb");
    await openPanel(ui.page);
    await command(ui.page, "notebook:run-all-cells");
    await ui.page.click('#jp-labnote-experiments .jp-labnote-run:has-text("with image")');
    const img = ui.page.locator("#jp-labnote-experiments .jp-labnote-live img.jp-labnote-artifact-preview").first();
    await img.waitFor({ timeout: 30_000 });
    await ui.page.waitForFunction(
      () => {
        const el = document.querySelector<HTMLImageElement>("#jp-labnote-experiments .jp-labnote-live img.jp-labnote-artifact-preview");
        return !!el && el.complete && el.naturalWidth === 4;
      },
      undefined,
      { timeout: 20_000 },
    );
    mkdirSync(SHOTS, { recursive: true });
    await ui.page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, "panel-image-preview-light.png") });
  });

  it("marks a run died or interrupted at once when its kernel is restarted mid-run, and the store agrees", async () => {
    writeNotebook(path.join(ui.lab.root, "restart.ipynb"), [
      `import { experiment } from "labnote";
const exp = await experiment("restarted");`,
      `await exp.run(async (run) => {
  for (let i = 0; i < 100000; i++) { run.log("loss", 1 / (i + 1)); if (i % 10 === 0) await new Promise((r) => setTimeout(r, 50)); }
}, { name: "long" });`,
    ]);
    await openNotebook(ui.page, ui.lab, "restart.ipynb");
    await openPanel(ui.page);
    await startCommand(ui.page, "notebook:run-all-cells");
    await ui.page.waitForSelector('#jp-labnote-experiments .jp-labnote-run[data-status="running"]', { timeout: 120_000 });
    await ui.page.waitForTimeout(1000);
    const restartedAt = Date.now();
    // What the Restart Kernel menu does, without its confirmation dialog.
    await ui.page.evaluate(() => void (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart());
    const marked = await ui.page.waitForSelector('#jp-labnote-experiments .jp-labnote-run:has-text("long"):is([data-status="died"], [data-status="interrupted"])', { timeout: 10_000 });
    const ms = Date.now() - restartedAt;
    const status = await marked.getAttribute("data-status");
    console.log(`# run marked ${status} ${ms} ms after the restart began`);
    await ui.page.screenshot({ path: path.join(SHOTS, "lab-restarted-light.png") });
    // On disk: not left running, and not called completed.
    const file = path.join(ui.lab.root, "experiments", "restarted", "1", "run.json");
    const deadline = Date.now() + 30_000;
    let onDisk = "";
    while (Date.now() < deadline) {
      const rec = JSON.parse(readFileSync(file, "utf8"));
      onDisk = rec.status === "running" ? await fetchStatus(ui.lab, rec) : rec.status;
      if (onDisk !== "running") break;
      await ui.page.waitForTimeout(500);
    }
    assert.ok(["interrupted", "died"].includes(onDisk), `status on disk: ${onDisk}`);
  });
});

/** A reader's view of a running record: the library's history rule (a dead process is died). */
async function fetchStatus(_lab: Lab, rec: { pid: number; status: string }): Promise<string> {
  try {
    process.kill(rec.pid, 0);
    return "running";
  } catch {
    return "died";
  }
}
