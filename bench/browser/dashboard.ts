/**
 * Browser bench of the Experiments dashboard over the experiment index, in a real JupyterLab:
 * 10,000 runs (real records, `writeRuns`) in one experiment; the page is loaded afresh, the
 * dashboard opened by its command, and the time from the command to the frame that paints the
 * full table (count 10,000) is taken — with the experiment's index (a listing and the index
 * files), and, side by side in the same run, without it (the per-run loading: a request per
 * run.json, what the dashboard did before the index). Target: ≤ 1 s with the index; the ratio
 * says what the index buys. Then: a re-render (sort) and a filter of the 10,000 rows, and the
 * side panel's History of the same 10,000 runs, from the History tab's click (a notebook beside
 * the store open) to its table showing every run (target ≤ 1 s, as the dashboard), and from
 * opening that notebook (JupyterLab's own work to open it and start its kernel included).
 *
 * Run: node --import tsx bench/browser/dashboard.ts
 * Options: LABNOTE_BENCH_RUNS=10000, LABNOTE_BENCH_ROUNDS=5 (with the index), LABNOTE_BENCH_BASELINE_ROUNDS=1.
 */
import { renameSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { machineNote, median, report, runMain, verdict, type Row } from "../core/common";
import { writeRuns } from "../../test/browser/fixtures";
import { command, launchBrowser, repo, startLab, waitKernelIdle, writeNotebook, type Lab } from "../../test/browser/lab";
import { INDEX_FILES } from "../../src/protocol";
import { compactIndex } from "../../src/sinks/file/experiment-index";

const RUNS = Number(process.env.LABNOTE_BENCH_RUNS ?? 10_000);
const ROUNDS = Number(process.env.LABNOTE_BENCH_ROUNDS ?? 5);
const BASELINE_ROUNDS = Number(process.env.LABNOTE_BENCH_BASELINE_ROUNDS ?? 1);

function fmt(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

/** A fresh page with JupyterLab up; the dashboard opened and timed until its full table is painted. */
async function timeToTable(page: Page, lab: Lab, runs: number): Promise<{ ms: number; contents: number }> {
  let contents = 0;
  const count = (r: { url(): string }) => {
    if (r.url().includes("/api/contents/")) contents++;
  };
  await page.goto(`${lab.url}/lab?reset`);
  await page.waitForFunction(() => (window as any).jupyterapp?.commands?.hasCommand("labnote-jupyterlab:open-dashboard"), undefined, { timeout: 120_000 });
  await page.evaluate(() => (window as any).jupyterapp.restored);
  await page.waitForTimeout(500);
  page.on("request", count);
  const ms = await page
    .evaluate(
    (n) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        void (window as any).jupyterapp.commands.execute("labnote-jupyterlab:open-dashboard");
        const check = () => {
          const t = document.querySelector<HTMLElement>("#labnote-dashboard .jp-labnote-dashboard-table");
          if (t?.dataset.count === String(n)) return requestAnimationFrame(() => resolve(performance.now() - t0));
          if (performance.now() - t0 > 300_000) return reject(new Error(`the dashboard's table never showed every run in 5 minutes (it shows ${t?.dataset.count ?? "no table"}; ${document.querySelector("#labnote-dashboard .jp-labnote-dashboard-count")?.textContent ?? ""})`));
          setTimeout(check, 2);
        };
        check();
      }),
    runs,
  )
    .catch(async (e: unknown) => {
      // What the page showed when the table did not come, for whoever reads the error.
      const shot = path.join(repo, "screenshots", "bench-dashboard-failed.png");
      await page.screenshot({ path: shot }).catch(() => undefined);
      throw new Error(`${e instanceof Error ? e.message : String(e)} (screenshot: ${shot})`);
    });
  page.off("request", count);
  return { ms, contents };
}

/**
 * A fresh page with the side panel open on History and no notebook; then a notebook beside the
 * store is opened and timed until the History table shows every run (painted).
 */
async function timeToHistory(page: Page, lab: Lab, runs: number): Promise<number> {
  await page.goto(`${lab.url}/lab?reset`);
  await page.waitForFunction(() => (window as any).jupyterapp?.commands?.hasCommand("labnote:open-panel"), undefined, { timeout: 120_000 });
  await page.evaluate(() => (window as any).jupyterapp.restored);
  await command(page, "labnote:open-panel");
  await page.click("#jp-labnote-experiments .jp-labnote-tab[data-tab=history]");
  await page.waitForTimeout(500);
  return page.evaluate(
    (n) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        void (window as any).jupyterapp.commands.execute("docmanager:open", { path: "history.ipynb", factory: "Notebook" });
        const check = () => {
          const t = document.querySelector<HTMLElement>("#jp-labnote-experiments .jp-labnote-history-table");
          if (t?.dataset.count === String(n)) return requestAnimationFrame(() => resolve(performance.now() - t0));
          if (performance.now() - t0 > 300_000) return reject(new Error(`the panel's History never showed every run in 5 minutes (it shows ${t?.dataset.count ?? "no table"})`));
          setTimeout(check, 2);
        };
        check();
      }),
    runs,
  );
}

/**
 * A fresh page with a notebook beside the store open (its kernel idle) and the side panel on
 * Live; then the History tab is clicked and timed until its table shows every run (painted).
 */
async function timeHistoryClick(page: Page, lab: Lab, runs: number): Promise<number> {
  await page.goto(`${lab.url}/lab/tree/history.ipynb?reset`);
  await page.waitForFunction(() => (window as any).jupyterapp?.commands?.hasCommand("labnote:open-panel"), undefined, { timeout: 120_000 });
  await page.evaluate(() => (window as any).jupyterapp.restored);
  await waitKernelIdle(page);
  await command(page, "labnote:open-panel");
  await page.click("#jp-labnote-experiments .jp-labnote-tab[data-tab=live]");
  await page.waitForTimeout(1000);
  return page.evaluate(
    (n) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        document.querySelector<HTMLElement>("#jp-labnote-experiments .jp-labnote-tab[data-tab=history]")!.click();
        const check = () => {
          const t = document.querySelector<HTMLElement>("#jp-labnote-experiments .jp-labnote-history-table");
          if (t?.dataset.count === String(n)) return requestAnimationFrame(() => resolve(performance.now() - t0));
          if (performance.now() - t0 > 300_000) return reject(new Error(`the panel's History never showed every run in 5 minutes (it shows ${t?.dataset.count ?? "no table"})`));
          setTimeout(check, 2);
        };
        check();
      }),
    runs,
  );
}

/** From a click (sort) or input (filter) to the next painted frame. */
async function timeAction(page: Page, action: "sort" | "filter", arg: string): Promise<number> {
  return page.evaluate(
    ([action, arg]) =>
      new Promise<number>((resolve) => {
        const root = document.querySelector("#labnote-dashboard")!;
        const t0 = performance.now();
        if (action === "sort") (root.querySelector(`th[data-col="${arg}"]`) as HTMLElement).click();
        else {
          const q = root.querySelector<HTMLInputElement>(".jp-labnote-dashboard-query")!;
          q.value = arg;
          q.dispatchEvent(new Event("input"));
        }
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
      }),
    [action, arg] as const,
  );
}

async function main(): Promise<void> {
  console.log(`browser/dashboard: ${machineNote()}`);
  const lab = await startLab();
  const browser = await launchBrowser();
  const rows: Row[] = [];
  try {
    writeRuns(lab.root, "big", RUNS);
    const expDir = path.join(lab.root, "experiments", "big");
    compactIndex(expDir, "big");
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    // Functions handed to page.evaluate keep their names through tsx's helper: give the page that helper.
    await page.addInitScript("window.__name = window.__name || ((f) => f);");
    const indexed: number[] = [];
    const baseline: number[] = [];
    let requests = { indexed: 0, baseline: 0 };
    const aside = path.join(lab.root, "index-aside.jsonl");
    for (let round = 0; round < Math.max(ROUNDS, BASELINE_ROUNDS); round++) {
      if (round < ROUNDS) {
        const r = await timeToTable(page, lab, RUNS);
        indexed.push(r.ms);
        requests.indexed = r.contents;
        console.log(`  with the index: ${fmt(r.ms)} (${r.contents} contents requests)`);
      }
      if (round < BASELINE_ROUNDS) {
        renameSync(path.join(expDir, INDEX_FILES.index), aside);
        try {
          const r = await timeToTable(page, lab, RUNS);
          baseline.push(r.ms);
          requests.baseline = r.contents;
          console.log(`  per-run loading: ${fmt(r.ms)} (${r.contents} contents requests)`);
        } finally {
          renameSync(aside, path.join(expDir, INDEX_FILES.index));
        }
      }
    }
    // Re-render and filter on the last page (it has the index's table).
    await timeToTable(page, lab, RUNS);
    const sorts: number[] = [];
    for (const col of ["name", "status", "duration", "start", "name", "status", "duration", "start"]) sorts.push(await timeAction(page, "sort", col));
    const filters: number[] = [];
    for (const q of ["lr<0.01", "status=completed", "tag:sweep", "loss.last<0.1", ""]) filters.push(await timeAction(page, "filter", q));
    // The side panel's History of the same runs, opened with a notebook beside the store.
    writeNotebook(path.join(lab.root, "history.ipynb"), ["1 + 1"]);
    const history: number[] = [];
    const clicks: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      history.push(await timeToHistory(page, lab, RUNS));
      clicks.push(await timeHistoryClick(page, lab, RUNS));
      console.log(`  panel History: ${fmt(history[history.length - 1])} from opening the notebook, ${fmt(clicks[clicks.length - 1])} from the tab's click`);
    }
    const mi = median(indexed);
    const mb = median(baseline);
    rows.push({ figure: `dashboard: ${RUNS.toLocaleString("en")} runs from disk to the painted table, with the index, median of ${indexed.length}`, value: fmt(mi), target: "≤ 1000 ms", verdict: verdict(mi <= 1000) });
    rows.push({ figure: `dashboard: the same, per-run loading (no index), median of ${baseline.length}`, value: fmt(mb), target: "", verdict: "info" });
    rows.push({ figure: "dashboard: per-run loading ÷ index loading", value: `${(mb / mi).toFixed(1)}×`, target: "", verdict: "info" });
    rows.push({ figure: "dashboard: contents requests, with the index / per-run", value: `${requests.indexed} / ${requests.baseline}`, target: "", verdict: "info" });
    rows.push({ figure: `dashboard: re-render (sort) of ${RUNS.toLocaleString("en")} runs, median of ${sorts.length}`, value: fmt(median(sorts)), target: "≤ 300 ms", verdict: verdict(median(sorts) <= 300) });
    rows.push({ figure: `dashboard: filter of ${RUNS.toLocaleString("en")} runs, median of ${filters.length}`, value: fmt(median(filters)), target: "≤ 100 ms", verdict: verdict(median(filters) <= 100) });
    const mc = median(clicks);
    rows.push({ figure: `panel: ${RUNS.toLocaleString("en")} runs in History, from the History tab's click (notebook open) to the painted table, median of ${clicks.length}`, value: fmt(mc), target: "≤ 1000 ms", verdict: verdict(mc <= 1000) });
    rows.push({ figure: `panel: the same from opening the notebook (JupyterLab opens it and starts its kernel meanwhile), median of ${history.length}`, value: fmt(median(history)), target: "", verdict: "info" });
    report("browser/dashboard", rows);
  } finally {
    await browser.close();
    await lab.stop();
  }
}

runMain(main);
