/**
 * Zooming a dashboard chart into a 1,000,000-point run, in a real JupyterLab through Chromium:
 * unzoomed it is drawn from the metric's summary (no raw point fetched); wheeled in to about
 * 1,000 steps it reads the raw points of that range from the metric's column by HTTP range
 * requests of a few KB (never the whole file, never metrics.csv) and draws them exactly (the
 * hovered point's step and value are the ones logged); a double-click returns to the summary.
 * Screenshots go to screenshots/.
 */
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { writeMetricRuns, zoomValue } from "./fixtures";
import { command, repo, useLab } from "./lab";

const SHOTS = path.join(repo, "screenshots");
const D = "#labnote-dashboard";
const LOSS = `${D} .jp-labnote-dashboard-charts .jp-labnote-metric[data-metric="loss"]`;
const POINTS = 1_000_000;

/** A request the page made for a stored file, and what came back. */
interface FileRequest {
  url: string;
  range: string | undefined;
  status: number;
  bytes: number;
}

/** Hover the loss chart at a fraction `fx` of its plot's width: the step and value its tooltip names for the nearest exact point, if any. */
async function hover(page: Page, fx: number): Promise<{ run: string; step: number; value: number } | undefined> {
  const box = await page.locator(`${LOSS} canvas`).boundingBox();
  assert.ok(box);
  // The plot lies right of the y-axis (about 60 px) inside the canvas.
  const x = box.x + 60 + fx * (box.width - 80);
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y - 40);
  await page.mouse.move(x, y, { steps: 4 });
  const tip = page.locator("#vg-tooltip-element.visible");
  try {
    await tip.waitFor({ state: "visible", timeout: 3000 });
  } catch {
    return undefined;
  }
  const text = await tip.innerText();
  const step = /step\s+([-\d.e+]+)/.exec(text);
  const value = /value\s+([-\d.e+]+)/.exec(text);
  const run = /run\s+(.+)/.exec(text);
  return step && value ? { run: run?.[1].trim() ?? "", step: Number(step[1]), value: Number(value[1]) } : undefined;
}

describe("zooming a dashboard chart into a 1,000,000-point run", { timeout: 900_000 }, () => {
  const use = useLab({ page: { viewport: { width: 1500, height: 1000 } } });
  let page: Page;
  const files: FileRequest[] = [];

  before(async () => {
    const lab = use.lab;
    page = use.page;
    writeMetricRuns(lab.root, "zoom", 1, POINTS);
    mkdirSync(SHOTS, { recursive: true });
    page.on("response", (res) => {
      const url = decodeURIComponent(res.url());
      if (!url.includes("/files/") && !url.includes("/api/contents/")) return;
      void res
        .body()
        .catch(() => Buffer.alloc(0))
        .then((b) => files.push({ url, range: res.request().headers()["range"], status: res.status(), bytes: b.length }));
    });
    await page.goto(`${lab.url}/lab`);
    await page.waitForFunction(() => (window as any).jupyterapp?.commands?.hasCommand("labnote-jupyterlab:open-dashboard"), undefined, { timeout: 120_000 });
    await command(page, "labnote-jupyterlab:open-dashboard");
    await page.waitForFunction(() => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === "1", undefined, { timeout: 120_000 });
  });

  it("draws the unzoomed chart from the summary alone", async () => {
    assert.equal(statSync(path.join(use.lab.root, "experiments", "zoom", "1", "metrics", "0.f64")).size, POINTS * 24);
    await page.locator(`${D} tbody tr[data-id="zoom/1"] input[type=checkbox]`).click();
    await page.waitForSelector(`${D} .jp-labnote-dashboard-charts[data-state="drawn"]`, { timeout: 60_000 });
    await page.waitForSelector(`${LOSS} canvas`, { timeout: 30_000 });
    await page.waitForTimeout(500);
    assert.equal(await page.locator(LOSS).getAttribute("data-source"), "summary");
    const raw = files.filter((f) => /\.f64|metrics\.csv/.test(f.url));
    assert.deepEqual(raw, [], "raw points were fetched for an unzoomed chart");
    assert.ok(files.some((f) => /zoom\/1\/metrics\/0\.json/.test(f.url)), "the summary was not read");
    // Hovering a summary's buckets names no exact point.
    assert.equal(await hover(page, 0.5), undefined);
  });

  it("wheeled in to about 1,000 steps, reads the raw points of that range by small range requests and draws them exactly", async () => {
    const before = files.length;
    const box = await page.locator(`${LOSS} canvas`).boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + 60 + 0.5 * (box.width - 80), box.y + box.height / 2);
    // Each wheel notch of -987 zooms the x-axis by 1.001^-987 ≈ 0.373; seven make ≈ 1/1000.
    for (let i = 0; i < 7; i++) await page.mouse.wheel(0, -987);
    await page.waitForSelector(`${LOSS}[data-source="raw"]`, { timeout: 30_000 });
    await page.waitForTimeout(400);
    const note = await page.locator(`${LOSS} .jp-labnote-chart-note`).innerText();
    const shown = Number(/raw points in view: ([\d,]+)/.exec(note)?.[1].replace(/,/g, ""));
    assert.ok(shown > 600 && shown < 1600, `the note says: ${note}`);
    // Points under the pointer are the logged ones, exactly, at whole steps inside the zoomed range.
    const seen: { run: string; step: number; value: number }[] = [];
    for (const fx of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const p = await hover(page, fx);
      assert.ok(p, `no point under the pointer at ${fx}`);
      seen.push(p);
    }
    for (const p of seen) {
      assert.ok(Number.isInteger(p.step) && p.step > 0 && p.step < POINTS, `step ${p.step}`);
      assert.equal(p.value, zoomValue(p.step, 0), `the value drawn at step ${p.step}`);
      assert.equal(p.run, "zoom/1 run 0");
    }
    const steps = seen.map((p) => p.step);
    assert.ok(steps.every((s, i) => i === 0 || s > steps[i - 1]), `steps left to right: ${steps}`);
    assert.ok(steps[4] - steps[0] > 400 && steps[4] - steps[0] < 1600, `the view spans about 1,000 steps: ${steps}`);
    await page.locator(`${D} .jp-labnote-dashboard-charts`).screenshot({ path: path.join(SHOTS, "dashboard-zoom-raw.png") });
    // What travelled: range requests of the column, each of a few KB; never the whole file nor metrics.csv.
    await page.waitForTimeout(300);
    const reads = files.slice(before).filter((f) => /\.f64/.test(f.url));
    assert.ok(reads.length >= 1 && reads.length <= 12, `column requests: ${JSON.stringify(reads)}`);
    for (const r of reads) {
      assert.match(r.range ?? "", /^bytes=\d+-\d+$/, `a column request without a byte range: ${JSON.stringify(r)}`);
      assert.equal(r.status, 206, JSON.stringify(r));
      assert.ok(r.bytes <= 64 * 1024, `a range response of ${r.bytes} bytes`);
    }
    const total = reads.reduce((a, r) => a + r.bytes, 0);
    console.log(`zoomed to steps ${steps[0]}…${steps[4]}: ${reads.length} range request(s), ${reads.map((r) => `${r.range} → ${r.bytes} B`).join(", ")}`);
    assert.ok(total < 128 * 1024, `${total} bytes of raw points for a 1,000-step window`);
    assert.deepEqual(files.filter((f) => /metrics\.csv/.test(f.url)), []);
  });

  it("zoomed in further inside the range it read, reads nothing more and draws fewer points", async () => {
    const box = await page.locator(`${LOSS} canvas`).boundingBox();
    assert.ok(box);
    const shown = async () => Number(/raw points in view: ([\d,]+)/.exec(await page.locator(`${LOSS} .jp-labnote-chart-note`).innerText())?.[1].replace(/,/g, ""));
    const wide = await shown();
    const before = files.length;
    await page.mouse.move(box.x + 60 + 0.5 * (box.width - 80), box.y + box.height / 2);
    await page.mouse.wheel(0, -700);
    await page.waitForFunction((n) => {
      const m = /raw points in view: ([\d,]+)/.exec(document.querySelector('#labnote-dashboard .jp-labnote-metric[data-metric="loss"] .jp-labnote-chart-note')?.textContent ?? "");
      return m !== null && Number(m[1].replace(/,/g, "")) < n * 0.7;
    }, wide, { timeout: 30_000 });
    await page.waitForTimeout(400);
    assert.ok((await shown()) < wide * 0.7, `${await shown()} of ${wide} points`);
    assert.deepEqual(files.slice(before).filter((f) => /\.f64/.test(f.url)), []);
  });

  it("returns to the summary on a double-click, with no more raw reads", async () => {
    const box = await page.locator(`${LOSS} canvas`).boundingBox();
    assert.ok(box);
    await page.mouse.dblclick(box.x + 60 + 0.5 * (box.width - 80), box.y + box.height / 2);
    await page.waitForSelector(`${LOSS}[data-source="summary"]`, { timeout: 30_000 });
    const before = files.length;
    await page.waitForTimeout(600);
    assert.doesNotMatch(await page.locator(`${LOSS} .jp-labnote-chart-note`).innerText(), /raw points/);
    assert.deepEqual(files.slice(before).filter((f) => /\.f64/.test(f.url)), []);
    await page.mouse.move(5, 5);
    await page.waitForTimeout(200);
    await page.locator(`${D} .jp-labnote-dashboard-charts`).screenshot({ path: path.join(SHOTS, "dashboard-zoom-out.png") });
  });
});
