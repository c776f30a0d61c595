/**
 * Helpers shared by the core benches: statistics, temporary store roots, and the result rows
 * every bench prints (and hands to all.ts through LABNOTE_BENCH_OUT).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The repository the benches run in (two folders up from this file). */
export const repoDir = path.resolve(__dirname, "..", "..");

export type Verdict = "PASS" | "FAIL" | "info";

/** One line of the final table. */
export interface Row {
  figure: string;
  value: string;
  target: string;
  verdict: Verdict;
}

/** The middle value (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in [0, 100]). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[k];
}

/** The number after `--name` on the command line, else `dflt`. */
export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** CPU time (this process, all threads, user + system) since `since`, in ns. */
export function cpuNsSince(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) * 1000;
}

/** Milliseconds since `t0` (from process.hrtime.bigint()). */
export function msSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Wall and CPU time (this process, all threads, user + system) of `fn`, in milliseconds. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const wall = msSince(t0);
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000, value };
}

export function fmtNs(ns: number): string {
  if (ns >= 1e6) return fmtMs(ns / 1e6);
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

export function fmtRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;
}

/** PASS when `ok`, else FAIL. */
export function verdict(ok: boolean): Verdict {
  return ok ? "PASS" : "FAIL";
}

/** A fresh, empty folder under the system temp folder; removed by `cleanup()`. */
export function tempRoot(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `labnote-bench-${tag}-`));
  made.push(dir);
  return dir;
}

const made: string[] = [];

/** Remove every folder made by tempRoot() in this process. */
export function cleanup(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Let timers and I/O callbacks run. */
export function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A cheap deterministic source of full-precision doubles, like real losses. */
export function noise(seed = 1): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Print rows as an aligned table. */
export function printTable(rows: readonly Row[], title?: string): void {
  const head: Row = { figure: "figure", value: "value", target: "target", verdict: "info" };
  const all = [head, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const [a, b, c] = [w("figure"), w("value"), w("target")];
  const line = (r: Row, v: string) => `${r.figure.padEnd(a)}  ${r.value.padStart(b)}  ${r.target.padEnd(c)}  ${v}`;
  if (title) console.log(`\n${title}`);
  console.log(line(head, "verdict"));
  console.log(`${"-".repeat(a)}  ${"-".repeat(b)}  ${"-".repeat(c)}  -------`);
  for (const r of rows) console.log(line(r, r.verdict === "info" ? "" : r.verdict));
}

/** Print a bench's rows and hand them to all.ts when it asked for them. */
export function report(bench: string, rows: readonly Row[]): void {
  printTable(rows, `== ${bench}`);
  const out = process.env.LABNOTE_BENCH_OUT;
  if (out) fs.appendFileSync(out, JSON.stringify({ bench, rows }) + "\n");
}

/** Run a bench's main function: report failures with a non-zero exit, always remove temp folders. */
export function runMain(main: () => Promise<void>): void {
  main()
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    })
    .finally(cleanup);
}

/** How busy the machine was: the benches share it, so a verdict near its target deserves a rerun. */
export function machineNote(): string {
  const [l1] = os.loadavg();
  return `node ${process.version}, ${os.cpus().length} cores, load ${l1.toFixed(2)}`;
}
