/**
 * run.log(): time per call, and sustained points per second with the file store writing
 * (flushes and run.end() included), side by side with a baseline that appends one CSV line
 * per point with fs.appendFileSync.
 *
 *   node --import tsx bench/core/log.ts [--rounds 5] [--seconds 4]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { experiment, type Experiment } from "../../src";
import { arg, cpuNsSince, fmtNs, fmtRate, machineNote, median, msSince, noise, percentile, report, runMain, tempRoot, verdict, yieldToLoop, type Row } from "./common";

const BATCH = 1_000;
/** Yield to the event loop this often, as a training loop that awaits now and then does. */
const YIELD_EVERY = 65_536;

/** Log "loss" for `seconds`, then end the run; points per second over the whole, end included. */
interface Round {
  rate: number;
  /** CPU time per point, all threads of the process (the writer's included), in ns. */
  cpuNs: number;
  endMs: number;
  points: number;
}

async function labnoteRound(exp: Experiment, seconds: number): Promise<Round> {
  const run = await exp.start({ name: "sustained" });
  const rnd = noise(7);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const stop = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < stop) {
    for (let k = 0; k < BATCH; k++, n++) run.log("loss", 1 / (1 + n * 1e-5) + 0.01 * rnd());
    if (n % YIELD_EVERY < BATCH) await yieldToLoop();
  }
  const t1 = process.hrtime.bigint();
  await run.end();
  const total = msSince(t0);
  return { rate: n / (total / 1000), cpuNs: cpuNsSince(c0) / n, endMs: msSince(t1), points: n };
}

/** The same loop writing each point as its own CSV line with fs.appendFileSync. */
async function baselineRound(dir: string, seconds: number): Promise<Round> {
  const file = path.join(dir, `baseline-${Date.now()}.csv`);
  fs.writeFileSync(file, "metric,step,value,time\n");
  const rnd = noise(7);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const stop = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < stop) {
    for (let k = 0; k < BATCH; k++, n++) fs.appendFileSync(file, `loss,${n},${1 / (1 + n * 1e-5) + 0.01 * rnd()},${Date.now()}\n`);
    if (n % YIELD_EVERY < BATCH) await yieldToLoop();
  }
  const rate = n / (msSince(t0) / 1000);
  const cpu = cpuNsSince(c0) / n;
  fs.rmSync(file);
  return { rate, cpuNs: cpu, endMs: 0, points: n };
}

/** Mean time per call of batches of BATCH calls, store on (inline flushes land in a few batches). */
async function perCall(exp: Experiment, batches: number): Promise<number[]> {
  const run = await exp.start({ name: "per-call" });
  const rnd = noise(3);
  const values = Float64Array.from({ length: BATCH }, () => rnd());
  const out: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < BATCH; k++) run.log("loss", values[k]);
    out.push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
  await run.end();
  return out;
}

async function main(): Promise<void> {
  const rounds = arg("rounds", 5);
  const seconds = arg("seconds", 4);
  const root = tempRoot("log");
  const exp = await experiment("bench", { root, capture: false });
  console.log(`log: ${machineNote()}; ${rounds} interleaved rounds of ${seconds} s (labnote) and 1 s (baseline)`);

  // warm-up: JIT both paths before anything is measured
  await perCall(exp, 200);
  await baselineRound(root, 0.3);

  const ns = (await perCall(exp, 3_000)).slice(100);

  const lab: Round[] = [];
  const base: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    lab.push(await labnoteRound(exp, seconds));
    base.push(await baselineRound(root, 1));
    console.log(`  round ${r + 1}: labnote ${fmtRate(lab[r].rate)} (${lab[r].points} points, end ${lab[r].endMs.toFixed(1)} ms), baseline ${fmtRate(base[r].rate)}`);
    fs.rmSync(path.join(root, "bench"), { recursive: true, force: true });
  }

  const p50 = median(ns);
  const rate = median(lab.map((x) => x.rate));
  const baseRate = median(base.map((x) => x.rate));
  const ratios = lab.map((x, i) => x.rate / base[i].rate);
  const cpuRatios = lab.map((x, i) => base[i].cpuNs / x.cpuNs);
  const rows: Row[] = [
    { figure: "run.log p50 per call (batches of 1,000)", value: fmtNs(p50), target: "≤ 1 µs", verdict: verdict(p50 <= 1000) },
    { figure: "run.log p99 of batch means", value: fmtNs(percentile(ns, 99)), target: "", verdict: "info" },
    { figure: "run.log mean per call, flushes included", value: fmtNs(ns.reduce((a, b) => a + b, 0) / ns.length), target: "", verdict: "info" },
    { figure: "run.log worst batch of 1,000 (inline flush)", value: fmtNs(Math.max(...ns) * BATCH), target: "", verdict: "info" },
    { figure: `run.log sustained, store on, end() incl. (${seconds} s)`, value: fmtRate(rate), target: "≥ 1 M/s", verdict: verdict(rate >= 1e6) },
    { figure: "baseline appendFileSync per point", value: fmtRate(baseRate), target: "", verdict: "info" },
    { figure: "ratio labnote / baseline (median of pairs)", value: `${median(ratios).toFixed(1)}×`, target: "", verdict: "info" },
    { figure: "CPU per point, labnote (all threads)", value: fmtNs(median(lab.map((x) => x.cpuNs))), target: "", verdict: "info" },
    { figure: "CPU per point, baseline", value: fmtNs(median(base.map((x) => x.cpuNs))), target: "", verdict: "info" },
    { figure: "CPU ratio baseline / labnote (median of pairs)", value: `${median(cpuRatios).toFixed(1)}×`, target: "", verdict: "info" },
  ];
  report("log", rows);
}

runMain(main);
