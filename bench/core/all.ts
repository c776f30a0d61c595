/**
 * Run benches, each in its own Node process (clean heap, cold caches), and print one table of
 * every figure against its target. `npm run bench` runs them all (core, kernel, browser);
 * `npm run bench -- log start` runs only those whose name contains one of the words.
 * Other suites add their entries to BENCHES.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { machineNote, printTable, repoDir, type Row } from "./common";

interface Bench {
  /** Shown in the table and matched by the command-line filter. */
  name: string;
  /** Script path relative to the repository. */
  file: string;
  /** Extra Node flags. */
  node?: string[];
}

const BENCHES: Bench[] = [
  { name: "core/log", file: "bench/core/log.ts" },
  { name: "core/writer", file: "bench/core/writer.ts" },
  { name: "core/start", file: "bench/core/start.ts" },
  { name: "core/memory", file: "bench/core/memory.ts", node: ["--expose-gc"] },
  { name: "core/history", file: "bench/core/history.ts" },
  { name: "core/tensorboard", file: "bench/core/tensorboard.ts" },
  { name: "core/mlflow", file: "bench/core/mlflow.ts" },
  { name: "kernel/widgets", file: "bench/kernel/widgets.ts" },
  { name: "browser/panel", file: "bench/browser/panel.ts" },
  { name: "browser/dashboard", file: "bench/browser/dashboard.ts" },
  { name: "browser/dashboard-charts", file: "bench/browser/dashboard-charts.ts" },
];

function main(): void {
  const words = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const chosen = BENCHES.filter((b) => words.length === 0 || words.some((w) => b.name.includes(w)));
  if (chosen.length === 0) {
    console.error(`No bench matches ${words.join(", ")}; there are ${BENCHES.map((b) => b.name).join(", ")}`);
    process.exitCode = 2;
    return;
  }
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "labnote-bench-")), "rows.jsonl");
  const started = Date.now();
  console.log(`labnote benches: ${machineNote()}`);
  const failed: string[] = [];
  for (const b of chosen) {
    const r = spawnSync(process.execPath, [...(b.node ?? []), "--import", "tsx", path.join(repoDir, b.file)], {
      cwd: repoDir,
      stdio: "inherit",
      env: { ...process.env, LABNOTE_BENCH_OUT: out },
    });
    if (r.status !== 0) failed.push(`${b.name} (exit ${r.status ?? r.signal})`);
  }
  const rows: Row[] = [];
  const text = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "";
  for (const line of text.split("\n").filter(Boolean)) {
    const { bench, rows: rs } = JSON.parse(line) as { bench: string; rows: Row[] };
    for (const r of rs) rows.push({ ...r, figure: `${bench}: ${r.figure}` });
  }
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  printTable(rows, `== all benches (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const misses = rows.filter((r) => r.verdict === "FAIL").length;
  console.log(`\n${rows.filter((r) => r.verdict === "PASS").length} PASS, ${misses} FAIL${failed.length ? `; benches that crashed: ${failed.join(", ")}` : ""}`);
  if (failed.length) process.exitCode = 1;
}

main();
