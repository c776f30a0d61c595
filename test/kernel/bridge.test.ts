/**
 * The tslab bridge against a real tslab kernel: display bundles, in-place updates, the cell
 * lifecycle (finish, throw, rejected top-level await, compile error, interrupt), shutdown, and
 * loading from folders with another tslab copy or none.
 *
 * Cells require the compiled bridge (lib/kernel/bridge.js) by absolute path. Every kernel here
 * runs without labnote's preload (LABNOTE_PRELOAD=0), as a kernel registered by tslab's own
 * installer does: these tests are about a bridge loaded from inside a cell. The preload's path
 * (the bridge hooked before the first cell) is tested in test/notebooks/lineage.test.ts.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  KernelSession,
  displays,
  executeNotebook,
  ofType,
  repoRoot,
  streamText,
  venvPython,
  type ExecuteResult,
  type JupyterMessage,
} from "../helpers";

const BRIDGE = path.join(repoRoot, "lib", "kernel", "bridge.js");
const NO_PRELOAD = { LABNOTE_PRELOAD: "0" };
const SOURCE = path.join(repoRoot, "src", "kernel", "bridge.ts");

/** Builds lib/ when the compiled bridge is missing or older than its source. */
function ensureBuilt(): void {
  const stale = !fs.existsSync(BRIDGE) || fs.statSync(BRIDGE).mtimeMs < fs.statSync(SOURCE).mtimeMs;
  if (!stale) return;
  try {
    execFileSync(process.execPath, [path.join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(repoRoot, "tsconfig.json")], {
      cwd: repoRoot,
      stdio: "pipe",
    });
  } catch {
    // tsc exits non-zero on type errors elsewhere in src/ but still writes lib/; check below.
  }
  assert.ok(fs.existsSync(BRIDGE), `${BRIDGE} was not built`);
}

function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `labnote-bridge-${name}-`));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `file` exists: the cell under test has reached the point worth interrupting. */
async function reached(file: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await sleep(50);
  }
  await sleep(100);
}

/** tslab aborts what arrives within 200 ms of a failed cell; a failing cell is followed by a pause. */
async function executeFailing(kernel: KernelSession, code: string): Promise<ExecuteResult> {
  const result = await kernel.execute(code);
  await sleep(400);
  return result;
}

/** The data of the update_display_data messages sent for `displayId`, in order. */
function updatesOf(messages: readonly JupyterMessage[], displayId: string): Array<Record<string, any>> {
  return ofType(messages, "update_display_data")
    .filter((m) => m.content.transient?.display_id === displayId)
    .map((m) => m.content.data as Record<string, any>);
}

/**
 * The code of the cell that loads the bridge: every start and end is reported as an
 * update_display_data ("cell-start", "cell-end") with the details as application/json, sent
 * from inside the callbacks, so each lands among the IOPub messages of the cell it is about.
 */
function installCell(bridgePath: string): string {
  return `
const bridge = require(${JSON.stringify(bridgePath)}).getBridge();
bridge.onCellStart((cell) => {
  bridge.update({ "application/json": { count: cell.executionCount, source: cell.source }, "text/plain": "start" }, "cell-start");
});
bridge.onCellEnd(async (cell, outcome) => {
  await new Promise((resolve) => setTimeout(resolve, 100));
  bridge.update({ "application/json": { count: cell.executionCount, source: cell.source, outcome }, "text/plain": "end" }, "cell-end");
});
console.log("CURRENT " + JSON.stringify(bridge.currentCell()));
`;
}

interface CellEnd {
  count: number;
  source: string;
  outcome: { ok: boolean; interrupted: boolean; error?: { message: string; stack?: string }; endTime: number };
}

function cellEnd(result: ExecuteResult): CellEnd {
  const ends = updatesOf(result.messages, "cell-end");
  assert.equal(ends.length, 1, `one cell-end update expected, got ${ends.length}; stderr: ${streamText(result.messages, "stderr")}`);
  return ends[0]["application/json"] as CellEnd;
}

describe("getBridge outside the kernel", () => {
  before(ensureBuilt);

  it("returns undefined in plain Node and prints nothing", () => {
    const run = spawnSync(process.execPath, ["-e", `const b = require(${JSON.stringify(BRIDGE)}); console.log(String(b.getBridge()), String(b.getBridge()))`], {
      encoding: "utf8",
    });
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), "undefined undefined");
    assert.equal(run.stderr, "");
  });

  it("warns once and returns undefined when tslab is there but its internals are not as expected", () => {
    const code = `globalThis.__tslab__ = { require: () => ({}) };
      const b = require(${JSON.stringify(BRIDGE)});
      console.log(String(b.getBridge()), String(b.getBridge()));`;
    const run = spawnSync(process.execPath, ["-e", code], { encoding: "utf8" });
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), "undefined undefined");
    const warnings = run.stderr.split("\n").filter((line) => line.startsWith("labnote:"));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(warnings[0], /live widgets and cell-scoped runs are off; runs still work with callbacks and run\.end\(\)/);
  });
});

describe("the tslab bridge in a real kernel", () => {
  let kernel: KernelSession;
  let dir: string;
  let installed: ExecuteResult;
  const install = installCell(BRIDGE);

  before(async () => {
    ensureBuilt();
    dir = tempDir("kernel");
    kernel = await KernelSession.start({ cwd: dir, env: NO_PRELOAD, notebookPath: path.join(dir, "demo.ipynb") });
    installed = await kernel.execute(install);
  });
  after(async () => {
    await kernel?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reports the cell that loaded it as the current cell, then ends it before the kernel goes idle", () => {
    assert.equal(installed.status, "ok", streamText(installed.messages));
    const line = streamText(installed.messages, "stdout").split("\n").find((l) => l.startsWith("CURRENT "));
    assert.ok(line, streamText(installed.messages));
    const current = JSON.parse(line.slice("CURRENT ".length));
    assert.equal(current.source, install);
    assert.equal(current.executionCount, 0, "unknown until the cell's reply");
    assert.equal(current.notebookPath, path.join(dir, "demo.ipynb"));
    const end = cellEnd(installed);
    assert.equal(end.source, install);
    assert.equal(end.count, installed.reply?.content.execution_count);
    assert.equal(end.outcome.ok, true);
  });

  it("sends a bundle of several MIME types as one display_data with its display_id", async () => {
    const bundle = {
      "text/plain": "run 1: step 0",
      "text/html": "<b>run 1</b>: step 0",
      "application/vnd.labnote.run+json": { version: 1, run: "demo/1", step: 0 },
    };
    const result = await kernel.execute(`bridge.display(${JSON.stringify(bundle)}, "widget-1", { "text/html": { isolated: false } });`);
    assert.equal(result.status, "ok");
    const shown = ofType(result.messages, "display_data");
    assert.equal(shown.length, 1);
    assert.deepEqual(shown[0].content.data, bundle);
    assert.deepEqual(shown[0].content.transient, { display_id: "widget-1" });
    assert.deepEqual(shown[0].content.metadata, { "text/html": { isolated: false } });
  });

  it("updates it in place with update_display_data", async () => {
    const bundle = { "text/plain": "run 1: step 9", "text/html": "<b>run 1</b>: step 9", "application/vnd.labnote.run+json": { step: 9 } };
    const result = await kernel.execute(`bridge.update(${JSON.stringify(bundle)}, "widget-1");`);
    assert.equal(result.status, "ok");
    assert.equal(ofType(result.messages, "display_data").length, 0);
    assert.deepEqual(updatesOf(result.messages, "widget-1"), [bundle]);
  });

  it("base64-encodes binary values", async () => {
    const result = await kernel.execute(`bridge.display({ "image/png": new Uint8Array([137, 80, 78, 71]), "text/plain": "png" }, "img");`);
    const shown = ofType(result.messages, "display_data");
    assert.equal(shown[0].content.data["image/png"], Buffer.from([137, 80, 78, 71]).toString("base64"));
  });

  it("fires onCellStart and onCellEnd with the cell's execution count and source", async () => {
    const code = "const answer = 6 * 7;\nanswer";
    const result = await kernel.execute(code);
    assert.equal(result.status, "ok");
    const count = result.reply?.content.execution_count;
    const starts = updatesOf(result.messages, "cell-start");
    assert.equal(starts.length, 1);
    assert.deepEqual(starts[0]["application/json"], { count, source: code });
    const end = cellEnd(result);
    assert.equal(end.count, count);
    assert.equal(end.source, code);
    assert.equal(end.outcome.ok, true);
    assert.equal(end.outcome.interrupted, false);
    assert.equal(end.outcome.error, undefined);
    // Start before the cell's own output, end after it.
    const kinds = result.messages.map((m) => (m.msg_type === "update_display_data" ? m.content.transient.display_id : m.msg_type === "stream" ? m.content.text.trim() : m.msg_type));
    assert.ok(kinds.indexOf("cell-start") < kinds.indexOf("42") && kinds.indexOf("42") < kinds.indexOf("cell-end"), kinds.join(", "));
  });

  it("delivers what onCellEnd sends before the kernel goes idle, even when it awaits", async () => {
    // cellEnd's update is sent after a 100 ms await in the callback; the harness stops reading
    // at the idle status, so finding it means it came first.
    const result = await kernel.execute("await new Promise((resolve) => setTimeout(resolve, 50));");
    const last = result.messages[result.messages.length - 1];
    assert.equal(last.msg_type, "status");
    assert.equal(last.content.execution_state, "idle");
    assert.equal(cellEnd(result).outcome.ok, true);
  });

  it("reports a cell that throws", async () => {
    const result = await executeFailing(kernel, 'throw new Error("boom")');
    assert.equal(result.status, "error");
    const { outcome, count } = cellEnd(result);
    assert.equal(count, result.reply?.content.execution_count);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.interrupted, false);
    assert.equal(outcome.error?.message, "boom");
    assert.match(outcome.error?.stack ?? "", /Error: boom/);
  });

  it("reports thrown values that are not errors, even unprintable ones", async () => {
    const plain = await executeFailing(kernel, "throw 42;");
    assert.equal(cellEnd(plain).outcome.error?.message, "42");
    const nasty = await executeFailing(kernel, 'throw { get message(): string { throw new Error("no"); } };');
    assert.equal(nasty.status, "error");
    assert.equal(cellEnd(nasty).outcome.ok, false);
    assert.equal(cellEnd(nasty).outcome.error?.message, "a value that cannot be printed was thrown");
  });

  it("reports a rejected top-level await", async () => {
    const result = await executeFailing(kernel, 'await Promise.reject(new Error("nope"));');
    assert.equal(result.status, "error");
    const { outcome } = cellEnd(result);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.interrupted, false);
    assert.equal(outcome.error?.message, "nope");
  });

  it("reports a cell that does not compile, with the compiler's message", async () => {
    const result = await executeFailing(kernel, 'const wrong: number = "text";');
    assert.equal(result.status, "error");
    const { outcome } = cellEnd(result);
    assert.equal(outcome.ok, false);
    assert.match(outcome.error?.message ?? "", /did not compile: .*not assignable to type 'number'/);
  });

  it("reports a top-level await interrupted by the kernel's interrupt", async () => {
    const marker = path.join(dir, "awaiting");
    const running = kernel.execute(`require("fs").writeFileSync(${JSON.stringify(marker)}, ""); await new Promise((resolve) => setTimeout(resolve, 20000));`);
    await reached(marker);
    await kernel.interrupt();
    const result = await running;
    await sleep(400);
    assert.equal(result.status, "error");
    const { outcome } = cellEnd(result);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.interrupted, true);
    assert.match(outcome.error?.message ?? "", /Interrupted asynchronously/);
  });

  it("reports a synchronous loop interrupted by the kernel's interrupt", async () => {
    const marker = path.join(dir, "looping");
    const running = kernel.execute(`require("fs").writeFileSync(${JSON.stringify(marker)}, ""); while (true) {}`);
    await reached(marker);
    await kernel.interrupt();
    const result = await running;
    await sleep(400);
    const { outcome } = cellEnd(result);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.interrupted, true);
  });

  it("leaves the kernel alive when it is interrupted while idle", async () => {
    await kernel.interrupt();
    await sleep(500);
    const result = await kernel.execute("1 + 1");
    assert.equal(result.status, "ok");
    assert.equal(cellEnd(result).outcome.ok, true);
  });

  it("keeps the kernel working when callbacks throw or reject, and says so on stderr", async () => {
    await kernel.execute(`
bridge.onCellStart(() => { throw new Error("start callback broke"); });
bridge.onCellEnd(() => { throw new Error("end callback broke"); });
bridge.onCellEnd(async () => { throw new Error("async end callback broke"); });`);
    const result = await kernel.execute('"still fine"');
    assert.equal(result.status, "ok");
    assert.equal(cellEnd(result).outcome.ok, true);
    const stderr = streamText(result.messages, "stderr");
    assert.match(stderr, /labnote: a cell-start callback failed: Error: start callback broke/);
    assert.match(stderr, /labnote: a cell-end callback failed: Error: end callback broke/);
    assert.match(stderr, /labnote: a cell-end callback failed: Error: async end callback broke/);
    assert.match(streamText(result.messages, "stdout"), /still fine/);
  });

  it("stops waiting for a hanging onCellEnd callback when the kernel is interrupted", async () => {
    const marker = path.join(dir, "hanging");
    const running = kernel.execute(
      `const offHang = bridge.onCellEnd(() => { require("fs").writeFileSync(${JSON.stringify(marker)}, ""); return new Promise<void>(() => {}); });`,
    );
    await reached(marker);
    await kernel.interrupt();
    const result = await running;
    assert.equal(result.status, "ok");
    assert.equal(cellEnd(result).outcome.ok, true);
    const next = await kernel.execute("offHang();");
    assert.equal(next.status, "ok");
  });

  it("unsubscribes", async () => {
    await kernel.execute("const off = bridge.onCellStart(() => console.log('EXTRA START')); off();");
    const result = await kernel.execute("0");
    assert.doesNotMatch(streamText(result.messages), /EXTRA START/);
  });

  it("has no current cell between cells", async () => {
    const result = await kernel.execute(
      "setTimeout(() => { (globalThis as any).late = String(bridge.currentCell()); }, 300); await new Promise((r) => setTimeout(r, 10));",
    );
    assert.equal(result.status, "ok");
    await sleep(600);
    const next = await kernel.execute("console.log('LATE ' + (globalThis as any).late)");
    assert.match(streamText(next.messages, "stdout"), /LATE undefined/);
  });
});

describe("the tslab bridge loaded from elsewhere", () => {
  let kernel: KernelSession;
  let dir: string;
  let bare: string;
  let decoyLib: string;

  before(async () => {
    ensureBuilt();
    dir = tempDir("copies");
    // A copy of the compiled library in a folder with no node_modules anywhere above it.
    const lib = path.dirname(path.dirname(BRIDGE));
    fs.cpSync(lib, path.join(dir, "bare", "lib"), { recursive: true });
    bare = path.join(dir, "bare", "lib", "kernel", "bridge.js");
    // A copy beside another "tslab" package, which the bridge must not take for the kernel's.
    const decoy = path.join(dir, "decoy", "node_modules", "tslab");
    fs.mkdirSync(path.join(decoy, "dist"), { recursive: true });
    fs.writeFileSync(path.join(decoy, "package.json"), JSON.stringify({ name: "tslab", version: "0.0.1", main: "dist/public.js" }));
    fs.writeFileSync(path.join(decoy, "dist", "jupyter.js"), "exports.lastWriteDisplayData = null;\n");
    fs.writeFileSync(path.join(decoy, "dist", "public.js"), "exports.jupyter = require('./jupyter');\nexports.versions = { tslab: '0.0.1' };\n");
    fs.cpSync(lib, path.join(dir, "decoy", "lib"), { recursive: true });
    decoyLib = path.join(dir, "decoy", "lib", "kernel", "bridge.js");
    kernel = await KernelSession.start({ cwd: dir, env: NO_PRELOAD });
  });
  after(async () => {
    await kernel?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("works from a folder without tslab", async () => {
    const result = await kernel.execute(installCell(bare));
    assert.equal(result.status, "ok", streamText(result.messages));
    assert.equal(streamText(result.messages, "stderr"), "");
    // Right after the cell that installed the hooks, an interrupt must not kill the kernel
    // (a SIGINT listener added while a cell's script runs would leave SIGINT at its default).
    await kernel.interrupt();
    await sleep(500);
    const shown = await kernel.execute(`bridge.display({ "text/plain": "bare", "text/html": "<i>bare</i>" }, "bare-1");`);
    assert.deepEqual(ofType(shown.messages, "display_data")[0].content.data, { "text/plain": "bare", "text/html": "<i>bare</i>" });
    assert.equal(cellEnd(shown).outcome.ok, true);
  });

  it("is the same instance, hooked once, for a copy beside another tslab", async () => {
    const result = await kernel.execute(`
require(${JSON.stringify(path.join(dir, "decoy", "node_modules", "tslab"))});
const other = require(${JSON.stringify(decoyLib)}).getBridge();
console.log("SAME " + (other === bridge));
other.display({ "text/plain": "from the other copy" }, "other-1");`);
    assert.equal(result.status, "ok", streamText(result.messages));
    assert.match(streamText(result.messages, "stdout"), /SAME true/);
    assert.equal(displays(result.messages).filter((m) => m.content.transient.display_id === "other-1").length, 1);
    // One hook set: each cell still gets exactly one start and one end.
    const next = await kernel.execute("0");
    assert.equal(updatesOf(next.messages, "cell-start").length, 1);
    assert.equal(cellEnd(next).outcome.ok, true);
  });
});

describe("the tslab bridge without Node's inspector", () => {
  let kernel: KernelSession;
  let dir: string;

  before(async () => {
    ensureBuilt();
    dir = tempDir("noinspector");
    kernel = await KernelSession.start({ cwd: dir, env: NO_PRELOAD });
  });
  after(async () => {
    await kernel?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("misses only the cell that loaded it", async () => {
    const install = `require("inspector").Session.prototype.connect = () => { throw new Error("no inspector here"); };
${installCell(BRIDGE)}`;
    const installed = await kernel.execute(install);
    assert.equal(installed.status, "ok", streamText(installed.messages));
    assert.match(streamText(installed.messages, "stdout"), /CURRENT undefined/);
    assert.equal(streamText(installed.messages, "stderr"), "");
    assert.equal(updatesOf(installed.messages, "cell-end").length, 0);
    const next = await kernel.execute("0");
    assert.equal(updatesOf(next.messages, "cell-start").length, 1);
    assert.equal(cellEnd(next).count, next.reply?.content.execution_count);
  });
});

describe("the tslab bridge in a tslab whose internals differ", () => {
  let kernel: KernelSession;
  let dir: string;

  before(async () => {
    ensureBuilt();
    dir = tempDir("differ");
    kernel = await KernelSession.start({ cwd: dir, env: NO_PRELOAD });
  });
  after(async () => {
    await kernel?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("warns once in the cell output and returns undefined; the kernel goes on", async () => {
    // Make this tslab look like one without lastWriteDisplayData (the kernel sets it again at
    // the next cell, so only the bridge's first look sees it missing).
    const result = await kernel.execute(`
const path = require("path");
const pub = (globalThis as any).__tslab__.require("tslab");
const entry: any = Object.values(require.cache).find((m: any) => m && m.exports === pub);
delete require.cache[path.join(path.dirname(entry.filename), "jupyter.js")]!.exports.lastWriteDisplayData;
const { getBridge } = require(${JSON.stringify(BRIDGE)});
console.log("FIRST " + getBridge() + " SECOND " + getBridge());`);
    assert.equal(result.status, "ok", streamText(result.messages));
    assert.match(streamText(result.messages, "stdout"), /FIRST undefined SECOND undefined/);
    const warnings = streamText(result.messages, "stderr").split("\n").filter((l) => l.startsWith("labnote:"));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /jupyter\.js has no lastWriteDisplayData.*live widgets and cell-scoped runs are off; runs still work with callbacks and run\.end\(\)/);
    const next = await kernel.execute('console.log("AGAIN " + getBridge())');
    assert.equal(next.status, "ok");
    assert.match(streamText(next.messages, "stdout"), /AGAIN undefined/);
    assert.equal(streamText(next.messages, "stderr"), "");
  });
});

describe("the tslab bridge with requests sent ahead (Run All)", () => {
  it("ends the cell that loaded it, final update and idle included, before the next cell starts", () => {
    ensureBuilt();
    const dir = tempDir("ahead");
    try {
      const first = `const bridge = require(${JSON.stringify(BRIDGE)}).getBridge();
bridge.onCellStart((cell) => console.log("START " + cell.executionCount));
bridge.onCellEnd(async (cell) => {
  await new Promise((resolve) => setTimeout(resolve, 300));
  bridge.update({ "text/plain": "final " + cell.executionCount }, "status-" + cell.executionCount);
});
bridge.display({ "text/plain": "running" }, "status-1");`;
      // Three execute_requests sent at once, as JupyterLab's Run All does; IOPub is one socket,
      // so the order of its messages is the order the kernel sent them.
      const script = `
import json, queue, sys
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="tslab")
km.start_kernel(cwd=sys.argv[1])
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
while True:
    try: kc.get_iopub_msg(timeout=0.2)
    except queue.Empty: break
ids = [kc.execute(code) for code in json.loads(sys.argv[2])]
idle = 0
while idle < len(ids):
    m = kc.get_iopub_msg(timeout=60)
    parent = m["parent_header"].get("msg_id")
    if parent not in ids: continue
    c = m["content"]
    print(json.dumps({"cell": ids.index(parent) + 1, "type": m["msg_type"], "state": c.get("execution_state"),
                      "text": c.get("text"), "data": c.get("data")}), flush=True)
    if m["msg_type"] == "status" and c["execution_state"] == "idle": idle += 1
kc.stop_channels(); km.shutdown_kernel(now=True)
`;
      const cells = [first, "console.log('second')", "console.log('third')"];
      const run = spawnSync(venvPython(), ["-c", script, dir, JSON.stringify(cells)], { encoding: "utf8", timeout: 120_000, env: { ...process.env, ...NO_PRELOAD } });
      assert.equal(run.status, 0, run.stderr);
      const events = run.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { cell: number; type: string; state?: string; text?: string; data?: Record<string, string> });
      const at = (cell: number, what: (e: (typeof events)[number]) => boolean) => {
        const i = events.findIndex((e) => e.cell === cell && what(e));
        assert.ok(i >= 0, `cell ${cell}: event not found in ${JSON.stringify(events)}`);
        return i;
      };
      const final1 = at(1, (e) => e.type === "update_display_data" && e.data?.["text/plain"] === "final 1");
      const idle1 = at(1, (e) => e.type === "status" && e.state === "idle");
      const start2 = at(2, (e) => e.type === "stream" && e.text?.trim() === "START 2");
      assert.ok(final1 < idle1, "cell 1's final update comes before its idle status");
      assert.ok(idle1 < start2, "cell 2 starts once cell 1 has ended");
      assert.ok(at(2, (e) => e.type === "update_display_data" && e.data?.["text/plain"] === "final 2") < at(2, (e) => e.type === "status" && e.state === "idle"));
      at(3, (e) => e.type === "stream" && e.text?.trim() === "START 3");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the tslab bridge at shutdown", () => {
  it("calls onShutdown when the kernel is asked to shut down", () => {
    ensureBuilt();
    const dir = tempDir("shutdown");
    try {
      const marker = path.join(dir, "shutdown.txt");
      const cell = `const fs = require("fs");
require(${JSON.stringify(BRIDGE)}).getBridge().onShutdown(() => fs.writeFileSync(${JSON.stringify(marker)}, "called"));`;
      // A graceful shutdown_request (jupyter_client's shutdown_kernel(now=False)), which the
      // step-by-step harness does not send.
      const script = `
import json, sys
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="tslab")
km.start_kernel(cwd=sys.argv[1])
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
reply = kc.execute_interactive(sys.argv[2], timeout=60, output_hook=lambda m: None)
kc.stop_channels()
km.shutdown_kernel(now=False)
print(json.dumps({"status": reply["content"]["status"]}))
`;
      const run = spawnSync(venvPython(), ["-c", script, dir, cell], { encoding: "utf8", timeout: 120_000, env: { ...process.env, ...NO_PRELOAD } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}").status, "ok");
      assert.equal(fs.readFileSync(marker, "utf8"), "called");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the tslab bridge in a notebook run by nbclient", () => {
  it("keeps the state sent by onCellEnd in the saved outputs, from the first cell on", async () => {
    ensureBuilt();
    const dir = tempDir("notebook");
    try {
      const first = `const bridge = require(${JSON.stringify(BRIDGE)}).getBridge();
let step = 0;
bridge.onCellEnd(async (cell) => {
  await new Promise((resolve) => setTimeout(resolve, 100));
  bridge.update({ "text/plain": "final after cell " + cell.executionCount }, "status-" + cell.executionCount);
});
bridge.display({ "text/plain": "running" }, "status-1");`;
      const notebook = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
        cells: [first, `bridge.display({ "text/plain": "running" }, "status-2");`].map((source, i) => ({
          id: `cell-${i}`,
          cell_type: "code",
          source,
          metadata: {},
          outputs: [],
          execution_count: null,
        })),
      };
      const file = path.join(dir, "final.ipynb");
      fs.writeFileSync(file, JSON.stringify(notebook));
      const { notebook: done } = await executeNotebook(file, { env: NO_PRELOAD });
      const texts = done.cells.map((cell) =>
        (cell.outputs ?? []).filter((o) => o.output_type === "display_data").map((o) => String(o.data["text/plain"])),
      );
      assert.deepEqual(texts[0], ["final after cell 1"]);
      assert.deepEqual(texts[1], ["final after cell 2"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
