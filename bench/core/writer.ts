/**
 * The metrics writer at the machine's limit (issue #8), every figure side by side in one run:
 * sustained points per second of a 1,000,000-point run (capture off, run.end() included), alone
 * and while another process keeps a core busy, against the previous writer (commit c2802c4,
 * kept in previous-writer.ts) and against fs.appendFileSync of a CSV line per point; the time
 * of run.end(); run.log per call; reading a 10,000,000-point run back; the summary a chart is
 * drawn from. Memory per point is memory.ts (it needs --expose-gc).
 *
 *   node --import tsx bench/core/writer.ts [--rounds 5] [--points 1000000] [--read-points 10000000]
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { experiment, whenWritten, type Experiment, type Run } from "../../src";
import { metricFiles, parseMetricSummary, summarySeries } from "../../src/protocol";
import { arg, cpuNsSince, fmtMs, fmtNs, fmtRate, machineNote, median, msSince, noise, percentile, report, runMain, tempRoot, timed, verdict, yieldToLoop, type Row } from "./common";
import { MetricsWriter, PreviousCsvSink } from "./previous-writer";

/** Yield to the event loop this often, as a training loop that awaits now and then does. */
const YIELD_EVERY = 65_536;

interface Round {
  /** Points per second, from the first log() until run.end() resolved. */
  rate: number;
  endMs: number;
  /** CPU time per point, all threads of this process (the writer's included), in ns. */
  cpuNs: number;
  /** metrics.csv written after end() returned (labnote only), in ms. */
  csvMs: number;
}

async function logLoop(run: Run, points: number): Promise<void> {
  const rnd = noise(7);
  for (let n = 0; n < points; n++) {
    run.log("loss", 1 / (1 + n * 1e-5) + 0.01 * rnd());
    if (n % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
}

/** Log `points` into a run, end it; the rate from the first log() until end() resolved. */
async function timedRun(run: Run, points: number): Promise<Round> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await logLoop(run, points);
  const t1 = process.hrtime.bigint();
  await run.end();
  const total = msSince(t0);
  return { rate: points / (total / 1000), endMs: msSince(t1), cpuNs: cpuNsSince(c0) / points, csvMs: 0 };
}

async function labnoteRound(exp: Experiment, points: number): Promise<Round> {
  const round = await timedRun(await exp.start({ name: "sustained" }), points);
  // Off the run's path, but not free: measured apart, and finished before the next round.
  const t2 = process.hrtime.bigint();
  await whenWritten();
  return { ...round, csvMs: msSince(t2) };
}

/** The same run through the previous writer: a run that writes nothing else, with that version's metrics sink added. */
async function previousRound(ghost: Experiment, dir: string, writer: MetricsWriter, points: number): Promise<Round> {
  const run = await ghost.start({ name: "previous" });
  run.addSink(new PreviousCsvSink(dir, writer));
  const round = await timedRun(run, points);
  fs.rmSync(path.join(dir, "metrics.csv"), { force: true });
  return round;
}

/** A CSV line per point with fs.appendFileSync (fewer points: it is two orders of magnitude slower). */
async function appendRound(dir: string, points: number): Promise<Round> {
  const file = path.join(dir, "append.csv");
  fs.writeFileSync(file, "metric,step,value,time\n");
  const rnd = noise(7);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < points; n++) {
    fs.appendFileSync(file, `loss,${n},${1 / (1 + n * 1e-5) + 0.01 * rnd()},${Date.now()}\n`);
    if (n % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
  const round = { rate: points / (msSince(t0) / 1000), endMs: 0, cpuNs: cpuNsSince(c0) / points, csvMs: 0 };
  fs.rmSync(file);
  return round;
}

/**
 * Each call timed on its own (the clock's own cost, measured the same way, subtracted), over a
 * run long enough for many flushes to land inside calls.
 */
async function perCall(exp: Experiment, calls: number): Promise<{ p50: number; p99: number; max: number; clock: number; batchP50: number }> {
  const clock = new Float64Array(100_000);
  for (let i = 0; i < clock.length; i++) {
    const a = performance.now();
    clock[i] = performance.now() - a;
  }
  const clockNs = median(Array.from(clock)) * 1e6;
  const run = await exp.start({ name: "per-call" });
  const rnd = noise(3);
  const values = Float64Array.from({ length: 4096 }, () => rnd());
  const each = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const a = performance.now();
    run.log("loss", values[i & 4095]);
    each[i] = performance.now() - a;
  }
  // Batches of 1,000 calls timed whole: the clock's cost is negligible there.
  const batches: number[] = [];
  for (let b = 0; b < 2000; b++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 1000; k++) run.log("loss", values[k]);
    batches.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await run.end();
  const ns = Array.from(each, (ms) => ms * 1e6);
  let max = 0;
  for (const x of ns) if (x > max) max = x;
  return { p50: Math.max(0, median(ns) - clockNs), p99: Math.max(0, percentile(ns, 99) - clockNs), max, clock: clockNs, batchP50: median(batches) };
}

/**
 * A long run, written and ended; only its id is kept, so that it is read back as a finished
 * run is (its points no longer held by the run that logged them).
 */
async function longRun(exp: Experiment, points: number): Promise<{ id: string; dir: string; logMs: number; csvMs: number }> {
  const run = await exp.start({ name: "read" });
  const log = await timed(() => logLoop(run, points));
  await run.end();
  const csv = await timed(() => whenWritten());
  return { id: run.id, dir: run.dir!, logMs: log.wall, csvMs: csv.wall };
}

/** A process that keeps one core busy until killed. */
function busyCore(): { stop: () => void } {
  const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  return { stop: () => child.kill("SIGKILL") };
}

async function main(): Promise<void> {
  const rounds = arg("rounds", 5);
  const points = arg("points", 1_000_000);
  const readPoints = arg("read-points", 10_000_000);
  const root = tempRoot("writer");
  const exp = await experiment("bench", { root, capture: false });
  const ghost = await experiment("previous", { ghost: true, capture: false });
  const previous = new MetricsWriter();
  const prevDir = tempRoot("previous");
  const startNote = machineNote();
  console.log(`writer: ${startNote}; ${rounds} interleaved rounds of ${points.toLocaleString("en")} points (labnote, the previous writer, appendFileSync with ${(points / 10).toLocaleString("en")})`);

  // warm-up: JIT every path before anything is measured
  await labnoteRound(exp, 300_000);
  await previousRound(ghost, prevDir, previous, 300_000);
  await appendRound(prevDir, 20_000);

  const lab: Round[] = [];
  const prev: Round[] = [];
  const app: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    lab.push(await labnoteRound(exp, points));
    prev.push(await previousRound(ghost, prevDir, previous, points));
    app.push(await appendRound(prevDir, points / 10));
    console.log(`  round ${r + 1}: labnote ${fmtRate(lab[r].rate)} (end ${fmtMs(lab[r].endMs)}, metrics.csv after ${fmtMs(lab[r].csvMs)}), previous ${fmtRate(prev[r].rate)} (end ${fmtMs(prev[r].endMs)}), appendFileSync ${fmtRate(app[r].rate)}`);
    fs.rmSync(path.join(root, "bench"), { recursive: true, force: true });
  }

  const busy = busyCore();
  await new Promise((r) => setTimeout(r, 300));
  const loadedNote = machineNote();
  const labBusy: Round[] = [];
  const prevBusy: Round[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      labBusy.push(await labnoteRound(exp, points));
      prevBusy.push(await previousRound(ghost, prevDir, previous, points));
      console.log(`  busy core, round ${r + 1}: labnote ${fmtRate(labBusy[r].rate)} (end ${fmtMs(labBusy[r].endMs)}), previous ${fmtRate(prevBusy[r].rate)} (end ${fmtMs(prevBusy[r].endMs)})`);
      fs.rmSync(path.join(root, "bench"), { recursive: true, force: true });
    }
  } finally {
    busy.stop();
  }

  const call = await perCall(exp, 2_000_000);

  // A long run, read back as a finished run, and the summary its charts are drawn from.
  const big = await longRun(exp, readPoints);
  // Read back in a fresh process, as a person reopening a run does: this one holds the ghost
  // experiment's earlier rounds in memory, and the collector would be measured with them.
  // Three processes, each reading the run three times: the first read of each is the figure,
  // the later ones (the same process reading again) are given beside it.
  const firsts: number[] = [];
  const firstCpu: number[] = [];
  const agains: number[] = [];
  const colFirsts: number[] = [];
  const colAgains: number[] = [];
  for (let p = 0; p < 3; p++) {
    const [plain, typed] = ["plain", "typed"].map((kind) => {
      const child = spawnSync(process.execPath, [...process.execArgv, __filename, "--read-child", root, big.id, String(readPoints), kind], { encoding: "utf8" });
      if (child.status !== 0) throw new Error(`the reading process failed: ${child.stderr}`);
      return JSON.parse(child.stdout.trim().split("\n").pop() ?? "[]") as { wall: number; cpu: number }[];
    });
    firsts.push(plain[0].wall);
    firstCpu.push(plain[0].cpu);
    agains.push(...plain.slice(1).map((x) => x.wall));
    colFirsts.push(typed[0].wall);
    colAgains.push(...typed.slice(1).map((x) => x.wall));
  }
  const summaryFile = path.join(big.dir, metricFiles.summary(0));
  const summaryBytes = fs.statSync(summaryFile).size;
  const draws: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = await timed(() => {
      const parsed = parseMetricSummary(fs.readFileSync(summaryFile, "utf8"));
      if (!parsed.ok) throw new Error(parsed.reason);
      return summarySeries(parsed.value, 200);
    });
    if (t.value.step.length > 200) throw new Error("too many buckets");
    draws.push(t.wall);
  }

  const m = (rs: Round[], k: keyof Round) => median(rs.map((x) => x[k]));
  const ratio = (a: Round[], b: Round[]) => median(a.map((x, i) => x.rate / b[i].rate));
  const rate = m(lab, "rate");
  const rateBusy = m(labBusy, "rate");
  const endMs = m(lab, "endMs");
  const readMs = median(firsts);
  const againMs = median(agains);
  const drawMs = median(draws);
  const rows: Row[] = [
    { figure: "machine at the start; during the busy-core rounds", value: `${startNote.replace(/.*load /, "load ")}; ${loadedNote.replace(/.*load /, "load ")}`, target: "", verdict: "info" },
    { figure: "sustained, 1M points, capture off, end() included", value: fmtRate(rate), target: "≥ 5 M/s", verdict: verdict(rate >= 5e6) },
    { figure: "  previous writer (c2802c4), same loop", value: fmtRate(m(prev, "rate")), target: "", verdict: "info" },
    { figure: "  appendFileSync, a CSV line per point", value: fmtRate(m(app, "rate")), target: "", verdict: "info" },
    { figure: "  ratio labnote / previous writer (median of pairs)", value: `${ratio(lab, prev).toFixed(1)}×`, target: "", verdict: "info" },
    { figure: "  ratio labnote / appendFileSync (median of pairs)", value: `${ratio(lab, app).toFixed(0)}×`, target: "", verdict: "info" },
    { figure: "  CPU per point: labnote / previous / appendFileSync", value: `${fmtNs(m(lab, "cpuNs"))} / ${fmtNs(m(prev, "cpuNs"))} / ${fmtNs(m(app, "cpuNs"))}`, target: "", verdict: "info" },
    { figure: "sustained while another process keeps a core busy", value: fmtRate(rateBusy), target: "≥ 3 M/s", verdict: verdict(rateBusy >= 3e6) },
    { figure: "  previous writer, same busy core", value: fmtRate(m(prevBusy, "rate")), target: "", verdict: "info" },
    { figure: "  ratio labnote / previous writer, busy core", value: `${ratio(labBusy, prevBusy).toFixed(1)}×`, target: "", verdict: "info" },
    { figure: "run.end() after 1M points", value: fmtMs(endMs), target: "≤ 20 ms", verdict: verdict(endMs <= 20) },
    { figure: "  previous writer's end() after 1M points", value: fmtMs(m(prev, "endMs")), target: "", verdict: "info" },
    { figure: "  busy core: labnote / previous end()", value: `${fmtMs(m(labBusy, "endMs"))} / ${fmtMs(m(prevBusy, "endMs"))}`, target: "", verdict: "info" },
    { figure: "  metrics.csv written after end() (background, 1M points)", value: fmtMs(m(lab, "csvMs")), target: "", verdict: "info" },
    { figure: "run.log p50 per call (single calls, clock subtracted)", value: fmtNs(call.p50), target: "≤ 100 ns", verdict: verdict(call.p50 <= 100) },
    { figure: "run.log p99 per call", value: fmtNs(call.p99), target: "≤ 1 µs", verdict: verdict(call.p99 <= 1000) },
    { figure: "  worst call (a flush inside log), clock cost", value: `${fmtNs(call.max)}, ${fmtNs(call.clock)}`, target: "", verdict: "info" },
    { figure: "  p50 of batch means (1,000 calls timed whole)", value: fmtNs(call.batchP50), target: "", verdict: "info" },
    { figure: `run.metric() of a finished ${(readPoints / 1e6).toFixed(0)}M-point run (reopened in a fresh process, median of 3)`, value: fmtMs(readMs), target: "≤ 1 s", verdict: verdict(readMs <= 1000) },
    { figure: "  read again in the same process (median of 6)", value: fmtMs(againMs), target: "", verdict: "info" },
    { figure: "  its CPU time", value: fmtMs(median(firstCpu)), target: "", verdict: "info" },
    { figure: "run.columns() of it (float64 columns), fresh process; again (median of 6)", value: `${fmtMs(median(colFirsts))}; ${fmtMs(median(colAgains))}`, target: "≤ 1 s", verdict: verdict(Math.max(median(colFirsts), median(colAgains)) <= 1000) },
    { figure: "  logging it; its metrics.csv after end() (background)", value: `${fmtMs(big.logMs)}; ${fmtMs(big.csvMs)}`, target: "", verdict: "info" },
    { figure: `summary file of that metric (${(readPoints / 1e6).toFixed(0)}M points)`, value: `${(summaryBytes / 1024).toFixed(1)} KB`, target: "≤ 64 KB", verdict: verdict(summaryBytes <= 64 * 1024) },
    { figure: "chart from it: read + parse + 200 buckets (median of 5)", value: fmtMs(drawMs), target: "≤ 1 s", verdict: verdict(drawMs <= 1000) },
  ];
  console.log(`writer: done, ${machineNote()}`);
  report("writer", rows);
}

/**
 * In a fresh process: reopen the run and read its metric three times, as plain arrays
 * (run.metric) or as float64 columns (run.columns); prints the timings as JSON.
 */
async function readChild(root: string, id: string, points: number, typed: boolean): Promise<void> {
  const exp = await experiment("bench", { root, capture: false });
  const reads: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < 3; r++) {
    const again = await exp.getRun(id);
    const t = await timed(() => (typed ? again.columns("loss") : again.metric("loss")));
    if (t.value.values.length !== points) throw new Error(`read ${t.value.values.length} points, expected ${points}`);
    reads.push({ wall: t.wall, cpu: t.cpu });
  }
  console.log(JSON.stringify(reads));
}

const at = process.argv.indexOf("--read-child");
if (at >= 0) readChild(process.argv[at + 1], process.argv[at + 2], Number(process.argv[at + 3]), process.argv[at + 4] === "typed").catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
else runMain(main);
