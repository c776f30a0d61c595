import { openRuns } from "./run-state";

export { openRuns };

/*
 * When the process exits, open runs are ended (completed on exit code 0, failed otherwise); on
 * SIGINT in plain Node they end `interrupted`. In a kernel that handles SIGINT itself (tslab),
 * the kernel's handler stays in charge.
 */

let installed = false;

function onExit(code: number): void {
  const ended = [...openRuns];
  for (const run of ended) {
    try {
      run.endSync(code === 0 ? { status: "completed", endedBy: "exit" } : { status: "failed", error: new Error(`the process exited with code ${code} before the run ended`), endedBy: "exit" });
    } catch {
      /* nothing more can be done while exiting */
    }
  }
  // Whatever the order of exit handlers, the last points (and metrics.csv) are written before the process goes.
  for (const run of ended) run.drainSync();
}

function onSigint(): void {
  const ended = [...openRuns];
  for (const run of ended) {
    try {
      run.endSync({ status: "interrupted", error: new Error("interrupted by SIGINT"), endedBy: "signal" });
    } catch {
      /* exiting anyway */
    }
  }
  for (const run of ended) run.drainSync();
  process.removeListener("SIGINT", onSigint);
  process.kill(process.pid, "SIGINT");
}

/** Install the exit and SIGINT handlers once, when the first run starts. */
export function installProcessHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("exit", onExit);
  // Only take SIGINT in plain Node where nobody else does: a listener disables Node's default
  // exit. Never inside a tslab kernel: it handles interrupts itself, and a listener added while
  // a cell runs (cells run with breakOnSigint) would make the next interrupt kill the kernel.
  const inKernel = typeof (globalThis as { __tslab__?: unknown }).__tslab__ === "object";
  if (!inKernel && process.listenerCount("SIGINT") === 0) process.on("SIGINT", onSigint);
}
