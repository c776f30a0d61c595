/**
 * The panel's Export notebook button: real JupyterLab, real tslab kernel, Chromium. The notebook
 * is saved first (so the snapshot holds what the person sees, outputs included), the kernel
 * stores it under the store.s snapshots folder with the links to this session's runs, and a second
 * click stores nothing new.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { command, openNotebook, openPanel, repo, setRightSidebarWidth, useLab, writeNotebook } from "./lab";
import { SESSIONS_DIR, SNAPSHOTS_DIR } from "../../src/protocol";

const SHOTS = path.join(repo, "screenshots");

describe("the panel's Export notebook button", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1500, height: 1000 } } });

  it("saves the notebook, stores its snapshot with outputs linked to the session's runs, and stores nothing new the second time", async () => {
    writeNotebook(path.join(ui.lab.root, "exported.ipynb"), [
      `import { experiment } from "labnote";\nconst exp = await experiment("exported");`,
      `await exp.run((run) => { for (let i = 0; i < 5; i++) run.log("loss", 1 / (i + 1)); }, { name: "first" });`,
      `console.log("printed-" + (6 * 7));`,
      `// labnote: ignore\nconst token = "hidden-" + "value"; console.log(token);`,
    ]);
    await openNotebook(ui.page, ui.lab, "exported.ipynb");
    await openPanel(ui.page);
    await setRightSidebarWidth(ui.page, 520);
    await command(ui.page, "notebook:run-all-cells");
    await ui.page.waitForSelector('#jp-labnote-experiments .jp-labnote-run[data-status="completed"]', { timeout: 120_000 });
    // Where the run came from, on its card in the panel.
    const from = ui.page.locator("#jp-labnote-experiments .jp-labnote-live .jp-labnote-card-from").first();
    await from.waitFor({ timeout: 30_000 });
    assert.equal(await from.textContent(), "exported.ipynb [2]");
    const button = ui.page.locator("#jp-labnote-experiments .jp-labnote-export");
    await button.waitFor({ state: "visible" });
    assert.equal(await button.isDisabled(), false);
    await button.click();
    const status = ui.page.locator('#jp-labnote-experiments .jp-labnote-export-status:is([data-state="done"], [data-state="error"])');
    await status.waitFor({ timeout: 120_000 });
    assert.match((await status.textContent()) ?? "", /stored, 1 run linked/);
    assert.equal(await status.getAttribute("data-state"), "done");
    mkdirSync(SHOTS, { recursive: true });
    await ui.page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, "panel-export-notebook-light.png") });

    const dir = path.join(ui.lab.root, "experiments", SNAPSHOTS_DIR);
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2, files.join(", "));
    const ipynb = path.join(dir, files.find((f) => f.endsWith(".ipynb"))!);
    const text = readFileSync(ipynb, "utf8");
    // What the person saw: the outputs are in the snapshot, the ignored cell is not.
    assert.match(text, /printed-42/);
    assert.ok(!text.includes("hidden-value"), "the ignored cell's source and output stay out");
    const links = JSON.parse(readFileSync(path.join(dir, files.find((f) => f.endsWith(".links.json"))!), "utf8"));
    assert.deepEqual(links.runs, ["exported/1"]);
    assert.match(links.notebook, /exported\.ipynb$/);
    // The export's own request is not in the session log.
    const sessions = readdirSync(path.join(ui.lab.root, "experiments", SESSIONS_DIR));
    assert.equal(sessions.length, 1);
    assert.doesNotMatch(readFileSync(path.join(ui.lab.root, "experiments", SESSIONS_DIR, sessions[0]), "utf8"), /exportNotebook/);
    const before = statSync(ipynb).mtimeMs;

    // Again with nothing changed: same snapshot, nothing new written.
    await ui.page.evaluate(() => {
      const el = document.querySelector("#jp-labnote-experiments .jp-labnote-export-status") as HTMLElement;
      el.dataset.state = "";
    });
    await button.click();
    await status.waitFor({ timeout: 120_000 });
    assert.equal(await status.getAttribute("data-state"), "done", (await status.textContent()) ?? "");
    assert.deepEqual(readdirSync(dir).sort(), files);
    assert.equal(statSync(ipynb).mtimeMs, before);
    assert.ok(existsSync(ipynb));
  });
});
