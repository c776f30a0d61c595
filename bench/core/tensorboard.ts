/**
 * The TensorBoard sink's cost per point, side by side in one run:
 * - the same 1,000,000-point loop (capture off, run.end() included) with the sink on and off:
 *   the sink's extra time per point on the logging thread;
 * - TensorBoard's own Python writer (tensorboard.summary.writer.EventFileWriter, the writer
 *   torch's SummaryWriter uses) writing 200,000 scalar events, per point.
 * (@tensorflow/tfjs-node's summary writer needs a native TensorFlow download, which this
 * machine's registries do not serve; TensorBoard's Python writer is the baseline.)
 * Target: the sink costs less per point than TensorBoard's own writer.
 *
 * Run: node --import tsx bench/core/tensorboard.ts [--rounds 5] [--points 1000000]
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { experiment, whenWritten } from "../../src";
import { arg, cleanup, fmtNs, machineNote, median, noise, repoDir, report, runMain, tempRoot, verdict, type Row } from "./common";

async function loop(root: string, points: number, tensorboard: boolean): Promise<number> {
  const exp = await experiment("tb", { root, capture: false, tensorboard });
  const run = await exp.start();
  const next = noise(7);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < points; i++) run.log("loss", next());
  await run.end();
  const ns = Number(process.hrtime.bigint() - t0);
  await whenWritten();
  return ns / points;
}

const PYTHON_WRITER = `
import sys, time, tempfile
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.compat.proto import event_pb2, summary_pb2
n = int(sys.argv[1])
w = EventFileWriter(tempfile.mkdtemp())
t0 = time.perf_counter_ns()
for i in range(n):
    s = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=0.5 + i * 1e-7)])
    w.add_event(event_pb2.Event(wall_time=time.time(), step=i, summary=s))
w.flush(); w.close()
print((time.perf_counter_ns() - t0) / n)
`;

function pythonWriter(points: number): number {
  const python = path.join(repoDir, ".venv", "bin", "python");
  const r = spawnSync(python, ["-c", PYTHON_WRITER, String(points)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`TensorBoard's Python writer failed (run scripts/setup.sh for .venv): ${r.stderr}`);
  return Number(r.stdout.trim());
}

async function main(): Promise<void> {
  const rounds = arg("rounds", 5);
  const points = arg("points", 1_000_000);
  console.log(`tensorboard: ${machineNote()}`);
  const off: number[] = [];
  const on: number[] = [];
  const py: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const root = tempRoot("tb");
    off.push(await loop(root, points, false));
    on.push(await loop(root, points, true));
    py.push(pythonWriter(200_000));
    console.log(`  round ${r + 1}: off ${fmtNs(off[r])}/pt, on ${fmtNs(on[r])}/pt, TensorBoard's Python writer ${fmtNs(py[r])}/pt`);
    cleanup();
  }
  const extra = median(on.map((x, i) => x - off[i]));
  const pyNs = median(py);
  const rows: Row[] = [
    { figure: `logging ${points.toLocaleString("en")} points, no extra sink, per point (end included)`, value: fmtNs(median(off)), target: "", verdict: "info" },
    { figure: "  with the TensorBoard sink, per point", value: fmtNs(median(on)), target: "", verdict: "info" },
    { figure: "the TensorBoard sink's cost per point (on − off, median of pairs)", value: fmtNs(extra), target: "< Python writer", verdict: verdict(extra < pyNs) },
    { figure: "TensorBoard's own Python writer, per point (200,000 scalar events)", value: fmtNs(pyNs), target: "", verdict: "info" },
    { figure: "  ratio Python writer / TensorBoard sink", value: `${(pyNs / extra).toFixed(0)}×`, target: "", verdict: "info" },
  ];
  report("tensorboard", rows);
}

runMain(main);
