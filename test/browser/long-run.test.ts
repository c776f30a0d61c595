/**
 * A 10,000,000-point run in the Experiments panel: its chart is drawn from the metric summaries
 * the writer keeps (a few KB), never from the raw points (240 MB of columns, or metrics.csv).
 * How long that takes is measured in bench/browser/panel.ts; this checks what is fetched and
 * what is drawn.
 */
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { writeLongRun } from "./fixtures";
import { openNotebook, openPanel, paintedPixels, repo, setRightSidebarWidth, useLab, writeNotebook } from "./lab";

const SHOTS = path.join(repo, "screenshots");
const POINTS = Number(process.env.LABNOTE_LONG_RUN_POINTS ?? 10_000_000);

describe("a 10M-point run in the panel", { timeout: 600_000 }, () => {
  const ui = useLab({ page: { viewport: { width: 1500, height: 1000 } } });

  before(async () => {
    writeLongRun(ui.lab.root, POINTS);
    writeNotebook(path.join(ui.lab.root, "long.ipynb"), ['import { experiment } from "labnote";']);
  });

  it("draws its chart from the summaries alone, without fetching a column or metrics.csv", async () => {
    const runDir = path.join(ui.lab.root, "experiments", "long", "1");
    assert.equal(statSync(path.join(runDir, "metrics", "0.f64")).size, POINTS * 24);
    const fetched: string[] = [];
    ui.page.on("request", (req) => fetched.push(decodeURIComponent(req.url())));
    await openNotebook(ui.page, ui.lab, "long.ipynb");
    await openPanel(ui.page);
    await setRightSidebarWidth(ui.page, 600);
    await ui.page.click("#jp-labnote-experiments .jp-labnote-tab[data-tab=history]");
    const row = ui.page.locator('#jp-labnote-experiments .jp-labnote-history-table tbody tr[data-id="long/1"]');
    await row.waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /ten million/);
    await row.locator("td").nth(2).click();
    const detail = "#jp-labnote-experiments .jp-labnote-history-box .jp-labnote-detail:not([hidden])";
    // On a timeout: what the page shows, and what it fetched.
    const orSay = (e: Error) =>
      ui.page.screenshot({ path: path.join(SHOTS, "long-run-failed.png") }).then(() => {
        throw new Error(`${e.message}\nfetched:\n${fetched.filter((u) => u.includes("/api/contents")).join("\n")}`);
      });
    await ui.page.waitForSelector(`${detail} canvas`, { timeout: 30_000 }).catch(orSay);
    await ui.page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes("val_loss"), detail, { timeout: 30_000 }).catch(orSay);
    await ui.page.waitForTimeout(800);
    const text = await ui.page.locator(detail).innerText();
    assert.match(text, /ten million/);
    // The point count and the last value come from the summary, exactly.
    assert.match(text.replace(/[\s,  ]/g, ""), /10000000|10M/, text);
    assert.ok((await paintedPixels(ui.page, detail)) > 2000, "the chart has nothing drawn");
    await ui.page.locator("#jp-labnote-experiments").screenshot({ path: path.join(SHOTS, "long-run-detail.png") });
    const runFiles = fetched.filter((u) => u.includes("long/1/"));
    assert.ok(runFiles.some((u) => /metrics\/0\.json/.test(u)), `the summary of loss was not read: ${runFiles.join("\n")}`);
    const raw = runFiles.filter((u) => /\.f64|metrics\.csv/.test(u));
    assert.deepEqual(raw, [], "raw points were downloaded");
  });
});

mkdirSync(SHOTS, { recursive: true });
