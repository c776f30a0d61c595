/**
 * A run's start: exp.start() and run.end() timed apart, without source capture (host, git and
 * dependencies captured as by default), and with source capture of this repository: the first
 * start in a fresh process with an empty store (child processes, so the hash cache is cold) and
 * the later starts when nothing changed.
 *
 *   node --import tsx bench/core/start.ts [--runs 40] [--children 5]
 */
import { spawnSync } from "node:child_process";
import { experiment, type CaptureOptions } from "../../src";
import { arg, fmtMs, machineNote, median, percentile, repoDir, report, runMain, tempRoot, timed, verdict, type Row } from "./common";

const CAPTURE_NONE_BUT_ENV = { sources: false, output: false };
const CAPTURE_SOURCES = { sources: true, output: false };

/** Start and end `n` runs; the time of each start() and each end(). */
interface Times {
  start: number[];
  startCpu: number[];
  end: number[];
  files: number;
}

/** Start and end `n` runs; the wall time of each start() and end(), and the CPU time of each start(). */
async function startEnd(root: string, capture: CaptureOptions | false, n: number): Promise<Times> {
  const exp = await experiment("bench", { root, capture, projectDir: repoDir, config: { i: 0 } });
  const out: Times = { start: [], startCpu: [], end: [], files: 0 };
  for (let i = 0; i < n; i++) {
    const s = await timed(() => exp.start({ name: "start", config: { i } }));
    out.start.push(s.wall);
    out.startCpu.push(s.cpu);
    const run = s.value;
    out.files = run.env.sources?.files.length ?? 0;
    run.log("loss", 1);
    out.end.push((await timed(() => run.end())).wall);
  }
  return out;
}

/** In a child: the first start with source capture in this process, then later ones. */
async function child(root: string, later: number): Promise<void> {
  const first = await startEnd(root, CAPTURE_SOURCES, 1);
  const rest = await startEnd(root, CAPTURE_SOURCES, later);
  process.stdout.write(JSON.stringify({ first: first.start[0], firstCpu: first.startCpu[0], files: first.files, later: rest.start, laterCpu: rest.startCpu }) + "\n");
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf("--child");
  if (ci >= 0) return child(process.argv[ci + 1], arg("later", 8));
  const runs = arg("runs", 40);
  const children = arg("children", 5);
  console.log(`start: ${machineNote()}; ${runs} runs without source capture, ${children} fresh processes with it`);

  // without source capture: warm up, then measure
  await startEnd(tempRoot("start"), CAPTURE_NONE_BUT_ENV, 5);
  const plain = await startEnd(tempRoot("start"), CAPTURE_NONE_BUT_ENV, runs);
  const bare = await startEnd(tempRoot("start"), false, runs);

  // with source capture: each child process gets an empty store and a cold hash cache
  const firsts: number[] = [];
  const firstsCpu: number[] = [];
  const later: number[] = [];
  const laterCpu: number[] = [];
  let files = 0;
  for (let c = 0; c < children; c++) {
    const r = spawnSync(process.execPath, ["--import", "tsx", __filename, "--child", tempRoot("start-src"), "--later", "8"], { cwd: repoDir, encoding: "utf8" });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status !== 0 || !line.startsWith("{")) throw new Error(`start child failed (${r.status}): ${r.stderr}`);
    const res = JSON.parse(line) as { first: number; firstCpu: number; files: number; later: number[]; laterCpu: number[] };
    firsts.push(res.first);
    firstsCpu.push(res.firstCpu);
    later.push(...res.later);
    laterCpu.push(...res.laterCpu);
    files = res.files;
    console.log(`  child ${c + 1}: first ${fmtMs(res.first)}, later median ${fmtMs(median(res.later))} (${res.files} source files)`);
  }

  const s = median(plain.start);
  const f = median(firsts);
  const l = median(later);
  const rows: Row[] = [
    { figure: `start, no source capture (median of ${runs})`, value: fmtMs(s), target: "≤ 20 ms", verdict: verdict(s <= 20) },
    { figure: "start, no source capture, p90", value: fmtMs(percentile(plain.start, 90)), target: "", verdict: "info" },
    { figure: "start, no source capture, CPU time (median)", value: fmtMs(median(plain.startCpu)), target: "", verdict: "info" },
    { figure: "end, no source capture (median)", value: fmtMs(median(plain.end)), target: "", verdict: "info" },
    { figure: "start, capture: false (median)", value: fmtMs(median(bare.start)), target: "", verdict: "info" },
    { figure: "end, capture: false (median)", value: fmtMs(median(bare.end)), target: "", verdict: "info" },
    { figure: `start + sources, first (median of ${children} processes)`, value: fmtMs(f), target: "≤ 200 ms", verdict: verdict(f <= 200) },
    { figure: "start + sources, first, CPU time (median)", value: fmtMs(median(firstsCpu)), target: "", verdict: "info" },
    { figure: `start + sources, unchanged (median of ${later.length})`, value: fmtMs(l), target: "≤ 50 ms", verdict: verdict(l <= 50) },
    { figure: "start + sources, unchanged, CPU time (median)", value: fmtMs(median(laterCpu)), target: "", verdict: "info" },
    { figure: "source files captured from the repository", value: String(files), target: "", verdict: "info" },
  ];
  report("start", rows);
}

runMain(main);
