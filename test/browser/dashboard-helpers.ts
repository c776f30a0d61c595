/**
 * What the dashboard's browser tests share: runs written by the library in a plain Node process
 * (no kernel), waiting for the table, measuring how soon a value written to disk is on screen,
 * the charts' pixels, and the checks of the run detail's artifact previews.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { formatNumber, fromWire } from "../../src/protocol/index";
import { repo } from "./lab";

/** The dashboard's main-area widget. */
export const D = "#labnote-dashboard";
/** Its runs table. */
export const TABLE = `${D} .jp-labnote-dashboard-table`;

/**
 * Code that a library script starts with: the library's `experiment` and `whenWritten`,
 * `sleep(ms)`, `png(w, h)` (a PNG's bytes), and `saveArtifacts(run, dir)`, which gives a run an
 * image (160 × 120), a CSV table of 250 rows, a 24 × 32 float64 .npy and a JSON.
 */
export const SCRIPT_PRELUDE = `
    const fs = require("node:fs"), path = require("node:path"), zlib = require("node:zlib");
    const aq = require("arquero");
    const { experiment, whenWritten } = require(${JSON.stringify(path.join(repo, "src", "index.ts"))});
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    function png(w, h) {
      const raw = Buffer.alloc((w * 3 + 1) * h);
      for (let y = 0; y < h; y++) {
        raw[y * (w * 3 + 1)] = 0;
        for (let x = 0; x < w; x++) {
          const o = y * (w * 3 + 1) + 1 + 3 * x;
          const r = Math.hypot(x - w / 2, y - h / 2) / (w / 2);
          raw[o] = Math.round(255 * (0.5 + 0.5 * Math.sin(6 * r)));
          raw[o + 1] = Math.round(255 * x / w);
          raw[o + 2] = Math.round(255 * (1 - y / h));
        }
      }
      const chunk = (type, data) => {
        const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
        const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
        const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td) >>> 0);
        return Buffer.concat([len, td, crc]);
      };
      const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
      return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
    }
    async function saveArtifacts(run, dir) {
      const img = path.join(dir, "sample.png");
      fs.writeFileSync(img, png(160, 120));
      await run.addArtifact(img);
      await run.save(aq.table({ epoch: Array.from({ length: 250 }, (_, i) => i), loss: Array.from({ length: 250 }, (_, i) => Math.round(1e4 * 2 * Math.exp(-i / 60)) / 1e4), note: Array.from({ length: 250 }, (_, i) => i % 50 ? "" : "checkpoint, saved") }), "history");
      const w = new Float64Array(24 * 32);
      for (let i = 0; i < 24; i++) for (let j = 0; j < 32; j++) w[i * 32 + j] = Math.sin(i / 4) * Math.cos(j / 5);
      await run.save(w, "weights", { shape: [24, 32] });
      await run.save({ best: { epoch: 9, loss: 0.081 }, classes: ["cat", "dog"] }, "summary");
    }
`;

/** Run `body` (after {@link SCRIPT_PRELUDE}, inside an async function) in a Node process of its own; fails with its stderr. */
export function runScript(body: string, timeout = 300_000): void {
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", wrap(body)], { cwd: repo, encoding: "utf8", timeout });
  if (r.status !== 0) throw new Error(`the script failed (${r.status}): ${r.stderr || r.error}`);
}

/** Start `body` as {@link runScript} does, without waiting: resolves when the process exits well. */
export function startScript(body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", "-e", wrap(body)], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (c) => (c === 0 ? resolve() : reject(new Error(`the script failed (${c}): ${err}`))));
  });
}

function wrap(body: string): string {
  return `${SCRIPT_PRELUDE}\n(async () => {\n${body}\n  await whenWritten();\n})().catch((e) => { console.error(e); process.exit(1); });`;
}

/** A plain Node script (no kernel) that logs `loss` every 100 ms for `seconds`, in experiment `name`. */
export function scriptRun(root: string, name: string, seconds: number): Promise<void> {
  return startScript(`
      const exp = await experiment(${JSON.stringify(name)}, { root: ${JSON.stringify(root)}, capture: false });
      const run = await exp.start({ name: "plain script" });
      for (let i = 0; i < ${seconds * 10}; i++) { run.log("loss", 1 / (i + 1)); await sleep(100); }
      await run.end();`);
}

/** Wait until `file` exists; the time it was seen. */
export async function waitFile(file: string, timeout = 120_000): Promise<number> {
  const end = Date.now() + timeout;
  while (!existsSync(file)) {
    if (Date.now() > end) throw new Error(`no ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now();
}

/** Wait until the table shows `n` runs. */
export async function waitCount(page: Page, n: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction(([sel, n]) => document.querySelector<HTMLElement>(sel as string)?.dataset.count === String(n), [TABLE, n] as const, { timeout });
}

/** Every group heading of the table, top to bottom (the table is virtual: it scrolls through it, then back to the top). */
export async function groupHeadings(page: Page): Promise<string[]> {
  const scroll = page.locator(`${D} .jp-labnote-dashboard-scroll`);
  const out: string[] = [];
  for (let top = 0; ; ) {
    await scroll.evaluate((el, t) => (el.scrollTop = t), top);
    await page.waitForTimeout(50);
    for (const t of await page.locator(`${TABLE} tr.jp-labnote-dashboard-grouprow`).allInnerTexts()) if (!out.includes(t)) out.push(t);
    const { scrollTop, clientHeight, scrollHeight } = await scroll.evaluate((el) => ({ scrollTop: el.scrollTop, clientHeight: el.clientHeight, scrollHeight: el.scrollHeight }));
    if (scrollTop + clientHeight >= scrollHeight - 1) break;
    top = scrollTop + clientHeight;
  }
  await scroll.evaluate((el) => (el.scrollTop = 0));
  return out;
}

/** Wait until a run's cell says `text`; on a timeout, say what it said. */
export async function waitCellText(page: Page, id: string, col: string, text: string, timeout = 30_000): Promise<void> {
  const sel = `${TABLE} tbody tr[data-id="${id}"] td[data-col="${col}"]`;
  try {
    await page.waitForFunction(([sel, text]) => document.querySelector(sel)?.textContent === text, [sel, text] as const, { timeout });
  } catch {
    const row = await page.locator(`${TABLE} tbody tr[data-id="${id}"]`).innerText({ timeout: 1000 }).catch(() => "(no row)");
    throw new Error(`${id} ${col} did not say ${JSON.stringify(text)} within ${timeout} ms; the row says: ${row}`);
  }
}

/** A run's cell in the table. */
export function cell(page: Page, id: string, col: string): Locator {
  return page.locator(`${TABLE} tbody tr[data-id="${id}"] td[data-col="${col}"]`);
}

/** What the table's count line says (`n of m runs · k selected`). */
export async function countText(page: Page): Promise<string> {
  return page.locator(`${D} .jp-labnote-dashboard-count`).innerText();
}

/**
 * How long after the writer rewrote a run's loss summary on disk the dashboard shows its value:
 * `samples` times, in ms (a value not shown within 3 s counts as 3000).
 */
export async function displayLatency(page: Page, runDir: string, id: string, samples: number): Promise<number[]> {
  // The writer makes the metrics index with the first flush: a run just started may not have it yet.
  await waitFile(path.join(runDir, "metrics", "index.json"), 30_000);
  const index = JSON.parse(readFileSync(path.join(runDir, "metrics", "index.json"), "utf8")) as { metrics: { id: number; name: string }[] };
  const file = path.join(runDir, "metrics", `${index.metrics.find((m) => m.name === "loss")!.id}.json`);
  const read = () => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  const out: number[] = [];
  let text = read();
  while (out.length < samples) {
    const end = Date.now() + 10_000;
    let now = read();
    while (now === text || now === "") {
      if (Date.now() > end) throw new Error(`${file} did not change in 10 s`);
      await new Promise((r) => setTimeout(r, 10));
      now = read();
    }
    text = now;
    const t0 = Date.now();
    const want = formatNumber(fromWire(JSON.parse(now).last));
    const shown = await page
      .waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent === want, [`${TABLE} tbody tr[data-id="${id}"] td[data-col="metric:loss.last"]`, want] as const, { timeout: 3000, polling: 10 })
      .then(() => true, () => false);
    out.push(shown ? Date.now() - t0 : 3000);
  }
  return out;
}

/** A PNG of a metric's chart, to tell one drawing from another. */
export async function chartPixels(page: Page, metric: string): Promise<Buffer> {
  return page.locator(`${D} .jp-labnote-dashboard-charts .jp-labnote-metric[data-metric="${metric}"] .jp-labnote-chart`).screenshot();
}

/** Wait until at least `least` charts of the grid have drawn their data (their canvas painted) and redraws have settled. */
export async function chartsDrawn(page: Page, least = 3): Promise<void> {
  await page.waitForFunction(
    (least) => {
      const charts = [...document.querySelectorAll<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-charts .jp-labnote-metric .jp-labnote-chart")];
      return charts.length >= least && charts.every((c) => c.querySelector("canvas"));
    },
    least,
    { timeout: 60_000 },
  );
  await page.waitForTimeout(700);
}

/** The open run detail shows the artifacts {@link SCRIPT_PRELUDE}'s `saveArtifacts` gave: the image loaded, the CSV as a table, the .npy's facts and heatmap, the JSON as keys. */
export async function assertArtifactPreviews(page: Page): Promise<void> {
  const detail = page.locator(`${D} .jp-labnote-dashboard-detail`);
  await detail.locator('.jp-labnote-detail-artifact[data-kind="image"] img').waitFor();
  await page.waitForFunction(() => (document.querySelector('#labnote-dashboard .jp-labnote-detail-artifact[data-kind="image"] img') as HTMLImageElement | null)?.naturalWidth === 160, undefined, { timeout: 20_000 });
  // The CSV: its first 100 rows of 250.
  const csv = detail.locator('.jp-labnote-detail-artifact[data-kind="csv"]');
  await csv.locator("table").waitFor();
  assert.match(await csv.locator(".jp-labnote-preview-meta").innerText(), /first 100 of 250 rows/);
  assert.equal(await csv.locator("tbody tr").count(), 100);
  assert.deepEqual(await csv.locator("thead th").allInnerTexts(), ["epoch", "loss", "note"]);
  assert.equal(await csv.locator("tbody tr >> nth=50").locator("td >> nth=2").innerText(), "checkpoint, saved");
  // The .npy: dtype, shape, stats and a heatmap of 32 × 24 cells.
  const npy = detail.locator('.jp-labnote-detail-artifact[data-kind="npy"]');
  await npy.locator("canvas.jp-labnote-npy-heatmap").waitFor();
  const facts = await npy.locator(".jp-labnote-npy-facts").innerText();
  assert.match(facts, /dtype\s+float64/);
  assert.match(facts, /shape\s+\(24, 32\)/);
  assert.match(facts, /min\s+-0\.9\d*/);
  assert.deepEqual(await npy.locator("canvas").evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]), [32, 24]);
  // The JSON as a key/value table.
  const json = detail.locator('.jp-labnote-detail-artifact[data-kind="json"]');
  await json.locator("table").waitFor();
  assert.deepEqual(await json.locator("tbody td.jp-labnote-config-key, tbody td:first-child").allInnerTexts(), ["best", "classes"]);
}
