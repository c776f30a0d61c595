/**
 * Reading history: exp.history() and exp.runs() over 10,000 finished runs. Four runs are
 * recorded with the library itself (a config of 10 keys, 3–5 metrics, artifacts); the rest are
 * copies of their folders with their own number, id, times, config values, metric summaries,
 * status and cells in run.json.
 *
 *   node --import tsx bench/core/history.ts [--runs 10000] [--repeat 5]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { experiment } from "../../src";
import type { RunRecord } from "../../src";
import { arg, fmtMs, machineNote, median, msSince, noise, report, runMain, tempRoot, timed, verdict, type Row } from "./common";

const DEFAULTS = {
  lr: 0.001,
  epochs: 20,
  batchSize: 64,
  seed: 42,
  dropout: 0.1,
  optimizer: { name: "adam", momentum: 0.9, weightDecay: 0.0001 },
  model: { layers: 4, hidden: 256 },
};
const METRIC_SETS = [
  ["loss", "acc", "val_loss"],
  ["loss", "acc", "val_loss", "val_acc"],
  ["loss", "acc", "val_loss", "val_acc", "lr"],
  ["train/loss", "train/acc", "test/loss", "test/acc"],
];

/** Record one run per metric set with the library; their folders are the templates. */
export async function templates(root: string): Promise<string[]> {
  const exp = await experiment("history", { root, config: DEFAULTS, capture: { sources: false, output: false } });
  const dirs: string[] = [];
  for (const [t, metrics] of METRIC_SETS.entries()) {
    const run = await exp.start({ name: `template-${t}`, tags: ["bench", `set-${t}`], config: { lr: 0.01 / (t + 1), "model.hidden": 128 * (t + 1) }, metadata: { note: "bench" } });
    const rnd = noise(t + 1);
    for (let step = 0; step < 200; step++) for (const m of metrics) run.log(m, 1 / (1 + step) + 0.05 * rnd());
    await run.save({ epoch: 20, weights: [0.1, 0.2, 0.3] }, "model");
    if (t % 2) await run.save(new Float32Array(64), "embedding");
    await run.end({ result: { acc: 0.9 + 0.01 * t } });
    dirs.push(run.dir!);
  }
  return dirs;
}

/** Fill the experiment up to `total` runs by copying the templates with adjusted records. */
export function cloneRuns(expDir: string, dirs: string[], total: number): void {
  const recs = dirs.map((d) => JSON.parse(fs.readFileSync(path.join(d, "run.json"), "utf8")) as RunRecord);
  const rnd = noise(99);
  const t0 = recs[0].startTime - total * 60_000;
  for (let n = dirs.length + 1; n <= total; n++) {
    const k = n % dirs.length;
    const rec = structuredClone(recs[k]);
    const dir = path.join(expDir, String(n));
    fs.mkdirSync(dir);
    rec.id = `${rec.experiment}/${n}`;
    rec.number = n;
    rec.name = `sweep-${n % 37}`;
    rec.startTime = t0 + n * 60_000;
    rec.duration = Math.round(5_000 + 50_000 * rnd());
    rec.endTime = rec.startTime + rec.duration;
    rec.heartbeat = rec.endTime;
    rec.seed = Math.floor(rnd() * 2 ** 31);
    const cfg = rec.config as { lr: number; batchSize: number; dropout: number; optimizer: { momentum: number }; model: { layers: number } };
    cfg.lr = Number((0.1 * rnd()).toPrecision(3));
    cfg.batchSize = 2 ** (4 + (n % 5));
    cfg.dropout = Number((0.5 * rnd()).toFixed(2));
    cfg.optimizer.momentum = Number((0.8 + 0.19 * rnd()).toFixed(3));
    cfg.model.layers = 2 + (n % 6);
    for (const s of Object.values(rec.metrics)) {
      s.last = rnd();
      s.min = s.last * rnd();
      s.max = s.last + rnd();
    }
    rec.status = n % 50 === 0 ? "failed" : n % 23 === 0 ? "interrupted" : "completed";
    if (rec.status === "failed") rec.error = { name: "Error", message: "loss is NaN", stack: "Error: loss is NaN\n    at train (<cell>:12:11)" };
    rec.cells = [1, 2, 3].map((c) => ({ executionCount: n * 3 + c, sha256: (n * 7919 + c).toString(16).padStart(64, "0"), startTime: rec.startTime + c * 1000, endTime: rec.startTime + c * 1000 + 800, ok: true }));
    fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify(rec, null, 2) + "\n");
    fs.copyFileSync(path.join(dirs[k], "metrics.csv"), path.join(dir, "metrics.csv"));
    fs.copyFileSync(path.join(dirs[k], "env.json"), path.join(dir, "env.json"));
  }
}

async function main(): Promise<void> {
  const total = arg("runs", 10_000);
  const repeat = arg("repeat", 5);
  const root = tempRoot("history");
  console.log(`history: ${machineNote()}; ${total.toLocaleString("en")} finished runs, median of ${repeat}`);
  const g0 = process.hrtime.bigint();
  const dirs = await templates(root);
  cloneRuns(path.dirname(dirs[0]), dirs, total);
  console.log(`  generated ${total} runs in ${fmtMs(msSince(g0))}`);

  const exp = await experiment("history", { root, config: DEFAULTS, capture: false });
  const first = await exp.runs(); // warm-up: JIT and page cache
  if (first.numRows() !== total) throw new Error(`expected ${total} rows, got ${first.numRows()}`);
  const hist: number[] = [];
  const histCpu: number[] = [];
  const runs: number[] = [];
  const runsCpu: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const h = await timed(() => exp.history());
    hist.push(h.wall);
    histCpu.push(h.cpu);
    const t = await timed(() => exp.runs());
    runs.push(t.wall);
    runsCpu.push(t.cpu);
  }
  const cols = first.numCols();

  // a start allocates its number next to 10,000 existing run folders
  const starts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    const run = await exp.start({ name: "late" });
    starts.push(msSince(t0));
    await run.end();
  }

  const h = median(hist);
  const t = median(runs);
  const rows: Row[] = [
    { figure: `exp.history() over ${total.toLocaleString("en")} runs`, value: fmtMs(h), target: "", verdict: "info" },
    { figure: "exp.history(), CPU time", value: fmtMs(median(histCpu)), target: "", verdict: "info" },
    { figure: `exp.runs() over ${total.toLocaleString("en")} runs`, value: fmtMs(t), target: "≤ 1 s", verdict: verdict(t <= 1000) },
    { figure: "exp.runs(), CPU time", value: fmtMs(median(runsCpu)), target: "", verdict: "info" },
    { figure: "runs table size (rows × columns)", value: `${total} × ${cols}`, target: "", verdict: "info" },
    { figure: `exp.start() beside ${total.toLocaleString("en")} runs, capture: false`, value: fmtMs(median(starts)), target: "", verdict: "info" },
  ];
  report("history", rows);
}

if (require.main === module) runMain(main);
