/**
 * How much live run cards slow a logging loop in the real tslab kernel: the same loop with
 * widgets on and off, interleaved, medians of several rounds. Target: < 10% slower.
 *
 *   node --import tsx bench/kernel/widgets.ts
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { KernelSession, repoRoot, streamText } from "../../test/helpers";
import { report } from "../core/common";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const POINTS = Number(process.env.POINTS ?? 1_000_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-bench-widgets-"));
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
  const kernel = await KernelSession.start({ cwd: dir });
  try {
    const setup = await kernel.execute(`import { experiment } from "labnote";\nconst exp = await experiment("bench", { capture: false });\nlet ms = 0;`, { timeout: 120_000 });
    if (setup.status !== "ok") throw new Error(streamText(setup.messages));
    // The loop yields every 10,000 points so the cards really update while it runs.
    const loop = (widgets: boolean) => `const r = await exp.start({ widgets: ${widgets} });
const t0 = performance.now();
for (let i = 0; i < ${POINTS}; i++) { r.log("loss", Math.sin(i / 1000)); if (i % 10_000 === 9_999) await new Promise((res) => setImmediate(res)); }
ms = performance.now() - t0;
ms`;
    const on: number[] = [];
    const off: number[] = [];
    const updates: number[] = [];
    for (let k = 0; k < ROUNDS + 1; k++) {
      for (const widgets of k % 2 ? [true, false] : [false, true]) {
        const r = await kernel.execute(loop(widgets), { timeout: 300_000 });
        if (r.status !== "ok") throw new Error(streamText(r.messages));
        const ms = Number(streamText(r.messages, "stdout").trim());
        if (k === 0) continue; // warm-up round
        (widgets ? on : off).push(ms);
        if (widgets) updates.push(r.messages.filter((m) => m.msg_type === "update_display_data").length);
      }
    }
    const mOn = median(on);
    const mOff = median(off);
    const slow = (mOn / mOff - 1) * 100;
    console.log(`logging ${POINTS.toLocaleString()} points in a tslab cell, ${ROUNDS} rounds each, interleaved`);
    console.log(`  widgets off: median ${mOff.toFixed(0)} ms  (${on.length ? off.map((x) => x.toFixed(0)).join(", ") : ""})`);
    console.log(`  widgets on : median ${mOn.toFixed(0)} ms  (${on.map((x) => x.toFixed(0)).join(", ")}), ${median(updates)} card updates a run`);
    console.log(`  slowdown with widgets: ${slow.toFixed(1)}%   target < 10%   ${slow < 10 ? "PASS" : "FAIL"}`);
    report("kernel/widgets", [
      { figure: `logging loop, widgets off (median of ${ROUNDS})`, value: `${mOff.toFixed(0)} ms`, target: "", verdict: "info" },
      { figure: `logging loop, widgets on (median of ${ROUNDS})`, value: `${mOn.toFixed(0)} ms`, target: "", verdict: "info" },
      { figure: "card updates per run", value: String(median(updates)), target: "", verdict: "info" },
      { figure: "slowdown of the loop with widgets on", value: `${slow.toFixed(1)} %`, target: "< 10 %", verdict: slow < 10 ? "PASS" : "FAIL" },
    ]);
  } finally {
    await kernel.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
