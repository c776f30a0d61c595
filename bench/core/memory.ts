/**
 * Memory held per metric point: heapUsed + arrayBuffers (after a full GC) before and after
 * logging 10,000,000 points to one metric of one run, with the file store writing.
 *
 *   node --expose-gc --import tsx bench/core/memory.ts [--points 10000000]
 */
import { experiment } from "../../src";
import { arg, fmtMs, machineNote, msSince, report, runMain, tempRoot, verdict, type Row } from "./common";

function usage(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("memory.ts needs node --expose-gc");
  gc();
  gc();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const points = arg("points", 10_000_000);
  console.log(`memory: ${machineNote()}; ${points.toLocaleString("en")} points to one metric`);
  const exp = await experiment("bench", { root: tempRoot("memory"), capture: false });
  // warm-up run, so code and lazily created state do not count as points
  const warm = await exp.start({ name: "warm-up" });
  for (let i = 0; i < 100_000; i++) warm.log("loss", 1 / (i + 1));
  await warm.end();

  const run = await exp.start({ name: "memory" });
  run.log("loss", 1);
  const m0 = usage();
  const t0 = process.hrtime.bigint();
  let x = 0.5;
  for (let i = 1; i < points; i++) {
    x = x * 0.999999 + 1e-7 * (i % 977);
    run.log("loss", x);
  }
  const logMs = msSince(t0);
  const m1 = usage();
  const before = m0.heapUsed + m0.arrayBuffers;
  const after = m1.heapUsed + m1.arrayBuffers;
  // end() waits for everything to be written; the ended run still holds its points
  await run.end();
  const m2 = usage();
  const drained = m2.heapUsed + m2.arrayBuffers;
  // checked after the measurement, which keeps the run and its points alive until then
  const count = run.record().metrics.loss?.count;
  if (count !== points) throw new Error(`expected ${points} points in the run, found ${count}`);

  const perPoint = (after - before) / points;
  const rows: Row[] = [
    { figure: `memory held per point (${(points / 1e6).toFixed(0)}M points, one metric)`, value: `${perPoint.toFixed(1)} B`, target: "≤ 24 B", verdict: verdict(perPoint <= 24) },
    { figure: "per point once written (after end())", value: `${((drained - before) / points).toFixed(1)} B`, target: "", verdict: "info" },
    { figure: "heap + arrayBuffers held after logging", value: `${((after - before) / 2 ** 20).toFixed(0)} MiB`, target: "", verdict: "info" },
    { figure: "  of which heapUsed", value: `${((m1.heapUsed - m0.heapUsed) / 2 ** 20).toFixed(0)} MiB`, target: "", verdict: "info" },
    { figure: "  of which arrayBuffers", value: `${((m1.arrayBuffers - m0.arrayBuffers) / 2 ** 20).toFixed(0)} MiB`, target: "", verdict: "info" },
    { figure: "process RSS after logging", value: `${(m1.rss / 2 ** 20).toFixed(0)} MiB`, target: "", verdict: "info" },
    { figure: "time to log them, store on", value: fmtMs(logMs), target: "", verdict: "info" },
  ];
  report("memory", rows);
}

runMain(main);
