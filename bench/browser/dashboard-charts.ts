/**
 * Browser bench of the Experiments dashboard's charts, in a real JupyterLab through Chromium:
 *
 * 1. Ten selected runs of 1,000,000 points each (written by the library in a process of its
 *    own): from the shift-click that selects them to the frame after every chart has drawn
 *    them (read from the metric summaries), on a fresh page each round. Target: ≤ 1 s. Side by
 *    side in the same run: ten runs of 1,000 points, the same way (the ratio says what the
 *    length of the runs costs).
 * 2. A live run logging 10,000 points/s (two metrics, a Node process with the library, for
 *    `LABNOTE_BENCH_SECONDS`): the dashboard charts it while it runs; every redraw of its
 *    charts is timed by the extension's timing hooks (Vega changeset and `runAsync` on canvas).
 *    Target: median ≤ 16 ms. The frame gaps of the page are watched meanwhile.
 * 3. Zoom to raw points in a 10,000,000-point run: the loss chart wheeled in to about 1,000
 *    steps, timed from the moment the zoom rests (the reads start) to the drawn raw points
 *    (the extension's "dashboard-zoom-raw" timing: range reads of the column + drawing), and
 *    from the first wheel event to the drawn points (the zoom's settle time included); bytes
 *    and requests counted. Side by side: fetching a whole 1,000,000-point column (24 MB, ten
 *    times smaller than this run's) in the same page, which is what reading without ranges
 *    would cost at best.
 *
 * Run: node --import tsx bench/browser/dashboard-charts.ts
 * Options: LABNOTE_BENCH_ROUNDS=5, LABNOTE_BENCH_SECONDS=20, LABNOTE_LONG_RUN_POINTS=10000000,
 * LABNOTE_BENCH_POINTS=1000000 (points of each of the ten runs).
 */
import { spawn } from "node:child_process";
import path from "node:path";
import type { Page } from "playwright-core";
import { machineNote, median, percentile, repoDir, report, runMain, verdict, type Row } from "../core/common";
import { writeLongRun, writeMetricRuns } from "../../test/browser/fixtures";
import { command, launchBrowser, startLab, type Lab } from "../../test/browser/lab";

const ROUNDS = Number(process.env.LABNOTE_BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.LABNOTE_BENCH_SECONDS ?? 20);
const LONG_POINTS = Number(process.env.LABNOTE_LONG_RUN_POINTS ?? 10_000_000);
const POINTS = Number(process.env.LABNOTE_BENCH_POINTS ?? 1_000_000);
const RATE = 10_000;
const D = "#labnote-dashboard";

function fmt(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

/** A fresh page with the dashboard open on experiment `experiment`, its table showing `rows` runs. */
async function openDashboard(page: Page, lab: Lab, experiment: string, rows: number): Promise<void> {
  // A fresh workspace each time: nothing restored from the round before.
  await page.goto(`${lab.url}/lab?reset`);
  await page.waitForFunction(() => (window as any).jupyterapp?.commands?.hasCommand("labnote-jupyterlab:open-dashboard"), undefined, { timeout: 120_000 });
  await command(page, "labnote-jupyterlab:open-dashboard");
  const options = () => page.evaluate(() => [...document.querySelectorAll<HTMLOptionElement>("#labnote-dashboard .jp-labnote-toolbar select.jp-labnote-select option")].map((o) => o.value));
  await page
    .waitForFunction(
      (e) => [...document.querySelectorAll<HTMLOptionElement>("#labnote-dashboard .jp-labnote-toolbar select.jp-labnote-select option")].some((o) => o.value === e),
      experiment,
      { timeout: 120_000 },
    )
    .catch(async (e: Error) => {
      throw new Error(`${e.message}\nthe experiments offered: ${JSON.stringify(await options())}`);
    });
  await page.selectOption(`${D} .jp-labnote-toolbar select.jp-labnote-select >> nth=0`, experiment);
  await page.waitForFunction((n) => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table")?.dataset.count === String(n), rows, { timeout: 120_000 });
  await page.waitForTimeout(300);
}

/** Tick the first run, wait for its chart; then time the shift-click on the last row (all `n` selected) until every chart drew them. */
async function timeSelection(page: Page, n: number): Promise<number> {
  await page.locator(`${D} tbody tr[data-id] input[type=checkbox]`).first().click();
  await page.waitForFunction(() => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-charts")?.dataset.state === "drawn", undefined, { timeout: 60_000 });
  await page.waitForTimeout(300);
  return page.evaluate(
    (n) =>
      new Promise<number>((resolve, reject) => {
        const boxes = document.querySelectorAll<HTMLInputElement>("#labnote-dashboard tbody tr[data-id] input[type=checkbox]");
        const charts = document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-charts")!;
        const t0 = performance.now();
        boxes[n - 1].dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, shiftKey: true }));
        const check = () => {
          if (charts.dataset.state === "drawn" && charts.querySelectorAll(".jp-labnote-legend-item").length === n) return requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
          if (performance.now() - t0 > 60_000) return reject(new Error(`the charts of ${n} runs were not drawn in 60 s`));
          setTimeout(check, 2);
        };
        check();
      }),
    n,
  );
}

/** Wheel the loss chart in to about `span` steps of `points`, around the fraction `fx` of its width; the times to the drawn raw points. */
async function zoomToRaw(page: Page, points: number, span: number, fx: number): Promise<{ settled: number; wheel: number }> {
  const loss = `${D} .jp-labnote-metric[data-metric="loss"]`;
  const box = await page.locator(`${loss} canvas`).boundingBox();
  if (!box) throw new Error("no loss chart");
  await page.evaluate(() => ((window as any).labnoteTimings = {}));
  await page.mouse.move(box.x + 60 + fx * (box.width - 80), box.y + box.height / 2);
  // A notch of deltaY d zooms by 1.001^d: notches of about -1000 until the view spans `span` steps.
  const total = Math.log(span / points) / Math.log(1.001);
  const notches = Math.ceil(-total / 1000);
  const t0 = Date.now();
  for (let i = 0; i < notches; i++) await page.mouse.wheel(0, total / notches);
  await page.waitForSelector(`${loss}[data-source="raw"]`, { timeout: 60_000 });
  await page.waitForFunction(() => ((window as any).labnoteTimings?.["dashboard-zoom-raw"] ?? []).length > 0, undefined, { timeout: 60_000 });
  const wheel = Date.now() - t0;
  const settled = await page.evaluate(() => (window as any).labnoteTimings["dashboard-zoom-raw"][0] as number);
  // Back to the summary for the next round.
  await page.mouse.dblclick(box.x + 60 + fx * (box.width - 80), box.y + box.height / 2);
  await page.waitForSelector(`${loss}[data-source="summary"]`, { timeout: 30_000 });
  await page.waitForTimeout(300);
  return { settled, wheel };
}

/** A Node process logging `RATE` points/s (two metrics) for `SECONDS` into experiment "live" with the library. */
function startLiveRun(root: string): Promise<void> {
  const script = `
    const { experiment, whenWritten } = require(${JSON.stringify(path.join(repoDir, "src", "index.ts"))});
    (async () => {
      const exp = await experiment("live", { root: ${JSON.stringify(path.join(root, "experiments"))}, capture: false, config: { lr: 0.01 } });
      await exp.run(async (run) => {
        const t0 = Date.now();
        let i = 0;
        while (Date.now() - t0 < ${SECONDS * 1000}) {
          const due = Math.floor(((Date.now() - t0) * ${RATE}) / 1000);
          for (; i < due; i++) {
            if (i % 2 === 0) run.log("loss", Math.exp(-i / 40000) + 0.1 * Math.random(), i);
            else run.log("accuracy", 1 - Math.exp(-i / 30000) - 0.02 * Math.random(), i);
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      }, { name: "10k points per second" });
      await whenWritten();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { cwd: repoDir, stdio: ["ignore", "ignore", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`the live run's process exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  console.log(`browser/dashboard-charts: ${machineNote()}`);
  const lab = await startLab();
  const browser = await launchBrowser();
  const rows: Row[] = [];
  try {
    let t = Date.now();
    writeMetricRuns(lab.root, "million", 10, POINTS);
    writeMetricRuns(lab.root, "thousand", 10, 1000);
    console.log(`  10 runs of ${POINTS.toLocaleString("en")} points written in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.addInitScript("window.__name = window.__name || ((f) => f); window.localStorage.setItem('labnote:timing', '1');");

    // 1. Ten selected runs of 1M points, beside ten of 1,000.
    const million: number[] = [];
    const thousand: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await openDashboard(page, lab, "million", 10);
      million.push(await timeSelection(page, 10));
      await openDashboard(page, lab, "thousand", 10);
      thousand.push(await timeSelection(page, 10));
      console.log(`  10 selected runs charted: ${fmt(million[round])} (1M points each), ${fmt(thousand[round])} (1,000 points each)`);
    }
    const mm = median(million);
    const mt = median(thousand);
    rows.push({ figure: `charts: 10 selected runs of ${POINTS.toLocaleString("en")} points, selection → painted charts, median of ${million.length}`, value: fmt(mm), target: "≤ 1000 ms", verdict: verdict(mm <= 1000) });
    rows.push({ figure: "charts: the same for 10 runs of 1,000 points", value: fmt(mt), target: "", verdict: "info" });
    rows.push({ figure: `charts: ${POINTS.toLocaleString("en")}-point runs ÷ 1,000-point runs`, value: `${(mm / mt).toFixed(2)}×`, target: "", verdict: "info" });

    // 2. A live run at 10,000 points/s.
    const live = startLiveRun(lab.root);
    await openDashboard(page, lab, "live", 1);
    await page.locator(`${D} tbody tr[data-id] input[type=checkbox]`).first().click();
    await page.waitForFunction(() => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-charts")?.dataset.state === "drawn", undefined, { timeout: 60_000 });
    await page.evaluate(`(() => {
      const w = window;
      w.labnoteTimings = {};
      w.benchFrames = { last: performance.now(), gaps: [], stop: false };
      const onFrame = (t) => {
        const f = w.benchFrames;
        f.gaps.push(t - f.last);
        f.last = t;
        if (!f.stop) requestAnimationFrame(onFrame);
      };
      requestAnimationFrame(onFrame);
    })()`);
    await live;
    await page.waitForTimeout(2000);
    const liveTimes = await page.evaluate(() => {
      const w = window as any;
      w.benchFrames.stop = true;
      return { redraws: (w.labnoteTimings["dashboard-chart-redraw"] ?? []) as number[], gaps: w.benchFrames.gaps as number[] };
    });
    const shownCount = await page.locator(`${D} .jp-labnote-dashboard-table tbody tr[data-id]`).first().innerText();
    const rm = median(liveTimes.redraws);
    rows.push({ figure: `live: dashboard chart redraws while a run logs ${RATE.toLocaleString("en")} points/s for ${SECONDS} s (2 charts)`, value: String(liveTimes.redraws.length), target: "", verdict: "info" });
    rows.push({ figure: "live: dashboard chart redraw, median", value: fmt(rm), target: "≤ 16 ms", verdict: verdict(rm <= 16) });
    rows.push({ figure: "live: dashboard chart redraw, p95", value: fmt(percentile(liveTimes.redraws, 95)), target: "", verdict: "info" });
    rows.push({ figure: "live: longest frame gap of the page meanwhile", value: fmt(Math.max(...liveTimes.gaps)), target: "", verdict: "info" });
    console.log(`  the live run's row at the end: ${shownCount.replace(/\s+/g, " ").slice(0, 160)}`);

    // 3. Zoom to raw points in a 10M-point run, beside fetching a whole 1M-point column.
    t = Date.now();
    writeLongRun(lab.root, LONG_POINTS);
    console.log(`  ${LONG_POINTS.toLocaleString("en")}-point run written in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await openDashboard(page, lab, "long", 1);
    await page.locator(`${D} tbody tr[data-id] input[type=checkbox]`).first().click();
    await page.waitForFunction(() => document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-charts")?.dataset.state === "drawn", undefined, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const reads: { range?: string; bytes: number }[] = [];
    page.on("response", (res) => {
      if (!/\/files\/.*\.f64/.test(res.url())) return;
      void res
        .body()
        .catch(() => Buffer.alloc(0))
        .then((b) => reads.push({ range: res.request().headers()["range"], bytes: b.length }));
    });
    const settled: number[] = [];
    const wheeled: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const z = await zoomToRaw(page, LONG_POINTS, 1000, 0.15 + (0.7 * round) / Math.max(1, ROUNDS - 1));
      settled.push(z.settled);
      wheeled.push(z.wheel);
      console.log(`  zoom to raw: ${fmt(z.settled)} fetch + draw, ${fmt(z.wheel)} from the first wheel event`);
    }
    await page.waitForTimeout(300);
    const bytes = reads.reduce((a, r) => a + r.bytes, 0);
    const ranged = reads.filter((r) => r.range).length;
    const whole = await page.evaluate(async (url) => {
      const t = performance.now();
      const xsrf = /(?:^|;\s*)_xsrf=([^;]*)/.exec(document.cookie)?.[1] ?? "";
      const res = await fetch(url, { cache: "no-store", headers: { "X-XSRFToken": decodeURIComponent(xsrf) } });
      if (res.status !== 200) throw new Error(`the whole column: ${res.status}`);
      const buf = new Float64Array(await res.arrayBuffer());
      let s = 0;
      for (let i = 1; i < buf.length; i += 3) s += buf[i];
      return { ms: performance.now() - t, bytes: buf.byteLength, s };
    }, `${lab.url}/files/experiments/million/1/metrics/0.f64`);
    const ms = median(settled);
    rows.push({ figure: `zoom: ${LONG_POINTS.toLocaleString("en")}-point run wheeled in to ~1,000 steps, range reads + raw points drawn, median of ${settled.length}`, value: fmt(ms), target: "", verdict: "info" });
    rows.push({ figure: "zoom: the same from the first wheel event (the zoom's 60 ms settle included)", value: fmt(median(wheeled)), target: "", verdict: "info" });
    rows.push({ figure: "zoom: column requests (all with a byte range) / bytes received, all rounds", value: `${reads.length} (${ranged} ranged) / ${(bytes / 1024).toFixed(0)} KB`, target: "", verdict: "info" });
    rows.push({ figure: `zoom: baseline, one whole ${POINTS.toLocaleString("en")}-point column fetched (${(whole.bytes / 1e6).toFixed(0)} MB)`, value: fmt(whole.ms), target: "", verdict: "info" });
    rows.push({ figure: `zoom: whole ${POINTS.toLocaleString("en")}-point column ÷ ranged zoom into the ${LONG_POINTS.toLocaleString("en")}-point run`, value: `${(whole.ms / ms).toFixed(1)}×`, target: "", verdict: "info" });
    report("browser/dashboard-charts", rows);
  } finally {
    await browser.close();
    await lab.stop();
  }
}

runMain(main);
