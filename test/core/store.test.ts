import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, isLabnoteError } from "../../src";
import { BLOBS_DIR, LEGACY_FOLDERS, SESSIONS_DIR, STORE_DIR, blobPath } from "../../src/protocol";
import { pointsOf, tempDir } from "./tmp";

const TSX = ["--import", "tsx"];
const fixture = (name: string) => path.join(__dirname, "fixtures", name);

describe("run numbers", () => {
  it("gives 8 processes starting 50 runs each at the same moment 400 distinct numbers", { timeout: 120_000 }, async () => {
    const root = tempDir();
    const at = Date.now() + 4000;
    const procs = Array.from({ length: 8 }, () =>
      new Promise<number[]>((resolve, reject) => {
        const p = spawn(process.execPath, [...TSX, fixture("alloc-worker.ts"), root, "50", String(at)], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (err += d));
        p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker failed (${code}): ${err}`))));
      }),
    );
    const all = (await Promise.all(procs)).flat();
    assert.equal(all.length, 400);
    assert.equal(new Set(all).size, 400);
    assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: 400 }, (_, i) => i + 1));
    const exp = await experiment("race", { root, capture: false });
    const hist = await exp.history();
    assert.equal(hist.length, 400);
    assert.ok(hist.every((r) => r.status === "completed"));
  });
});

describe("a killed process", () => {
  it("leaves every point logged more than 200 ms before SIGKILL readable, at 1 M points/s, and the run shows as died", { timeout: 60_000 }, async (t) => {
    const root = tempDir();
    const child = spawn(process.execPath, [...TSX, fixture("crash-worker.ts"), root], { stdio: ["ignore", "pipe", "inherit"] });
    const rates: number[] = [];
    let out = "";
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("started\n")) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 2500));
    const runJson = path.join(root, "crash/1/run.json");
    child.kill("SIGKILL");
    // Taken after the kill: the signal landed before this, so "200 ms before it" is no later than this minus 200.
    const killedAt = Date.now();
    await new Promise((r) => child.on("exit", r));
    for (const line of out.split("\n")) if (line.startsWith("{")) rates.push(JSON.parse(line).rate);
    const rate = rates.slice(1).sort((a, b) => a - b)[Math.floor((rates.length - 1) / 2)] ?? 0;
    t.diagnostic(`the child logged at ${(rate / 1e6).toFixed(2)} M points/s (median of ${rates.length - 1} windows of 250 ms)${rate < 1e6 ? ": below 1 M/s, the machine was too busy to test at the full rate" : ""}`);
    const points = pointsOf(path.join(root, "crash/1"));
    const tick = points.get("tick")!;
    const busy = points.get("busy")!;
    assert.ok(tick.steps.length > 10, `only ${tick.steps.length} ticks on disk`);
    // steps are contiguous from 0: nothing lost in the middle
    tick.steps.forEach((s, i) => assert.equal(s, i));
    busy.steps.forEach((s, i, a) => i === 0 || assert.ok(s === a[i - 1] + 1 || s === 0));
    const lastOnDisk = Math.max(tick.times[tick.times.length - 1], busy.times[busy.times.length - 1]);
    assert.ok(killedAt - lastOnDisk < 200, `newest point on disk is ${killedAt - lastOnDisk} ms older than the kill`);
    t.diagnostic(`${busy.steps.length.toLocaleString("en")} busy points on disk; the newest ${killedAt - lastOnDisk} ms older than the kill`);
    const exp = await experiment("crash", { root, capture: false });
    const [rec] = await exp.history();
    assert.equal(rec.status, "died");
    assert.equal(JSON.parse(fs.readFileSync(runJson, "utf8")).status, "running", "reading the history does not write the record");
    const again = await exp.getRun(1);
    assert.equal(again.metric("tick").values.length, tick.steps.length);
  });

  it("reads a metric column whose last point was torn, and an old metrics.csv whose last line was torn", async () => {
    const root = tempDir();
    const exp = await experiment("torn", { root, capture: false });
    await exp.run(async (run) => {
      for (let i = 0; i < 10; i++) run.log("x", i);
    });
    // half a point: step and value of point 10, its time cut off
    fs.appendFileSync(path.join(root, "torn/1/metrics/0.f64"), Buffer.from(new Float64Array([10, 1]).buffer));
    assert.deepEqual((await exp.getRun(1)).metric("x").steps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const old = path.join(tempDir(), "old");
    fs.cpSync(fixture("store-format-1"), old, { recursive: true });
    fs.appendFileSync(path.join(old, "mnist/1/metrics.csv"), "loss,3,0.1");
    const before = fs.readFileSync(path.join(fixture("store-format-1"), "mnist/1/metrics.csv"), "utf8");
    const lossRows = before.split("\n").filter((l) => l.startsWith("loss,")).length;
    const loss = (await (await experiment("mnist", { root: old, capture: false })).getRun(1)).metric("loss");
    assert.equal(loss.steps.length, lossRows);
    assert.deepEqual(loss.steps, Array.from({ length: lossRows }, (_, i) => i));
  });
});

function mountTiny(dir: string, opts: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  return spawnSync("mount", ["-t", "tmpfs", "-o", opts, "tmpfs", dir], { stdio: "ignore" }).status === 0;
}

describe("a full disk", () => {
  it("gives a clear error at the call that hit it; what was written stays readable", { timeout: 30_000 }, async (t) => {
    const dir = path.join(tempDir(), "tiny");
    let cleanup = () => {};
    if (mountTiny(dir, "size=256k")) cleanup = () => spawnSync("umount", [dir]);
    else {
      t.diagnostic("mount is not permitted here: using /dev/full for the metrics file");
    }
    try {
      const exp = await experiment("full", { root: dir, capture: false });
      const run = await exp.start();
      if (!fs.existsSync("/proc/mounts") || !fs.readFileSync("/proc/mounts", "utf8").includes(dir)) {
        fs.mkdirSync(path.join(dir, "full/1/metrics"));
        fs.symlinkSync("/dev/full", path.join(dir, "full/1/metrics/0.f64"));
      }
      run.log("early", 1);
      run.flush();
      let error: unknown;
      try {
        for (let i = 0; i < 5_000_000 && !error; i++) {
          run.log("fill", i);
          if (i % 50_000 === 0) await new Promise((r) => setTimeout(r, 0));
        }
      } catch (e) {
        error = e;
      }
      error ??= await run.end().then(() => undefined, (e) => e);
      assert.ok(isLabnoteError(error), `expected a labnote error, got ${error}`);
      assert.equal((error as { code: string }).code, "STORE_WRITE");
      assert.match((error as Error).message, /no space left on device.*\(ENOSPC\)/);
      // the points are still in memory
      assert.ok(run.metric("fill").values.length > 0);
      const rec = JSON.parse(fs.readFileSync(path.join(dir, "full/1/run.json"), "utf8"));
      assert.equal(rec.id, "full/1");
    } finally {
      cleanup();
    }
  });

  it("an unwritable root fails at experiment() with a clear error", async () => {
    const dir = path.join(tempDir(), "ro");
    let root = dir;
    let cleanup = () => {};
    if (mountTiny(dir, "ro,size=64k")) cleanup = () => spawnSync("umount", [dir]);
    else {
      fs.writeFileSync(dir + "-file", "");
      root = path.join(dir + "-file", "sub");
    }
    try {
      await assert.rejects(experiment("x", { root }), (e: unknown) => isLabnoteError(e) && e.code === "STORE_WRITE" && /Cannot write .*(read-only|not a folder)/.test(e.message));
    } finally {
      cleanup();
    }
  });
});

describe("SIGINT in plain Node", () => {
  it("ends open runs as interrupted", { timeout: 30_000 }, async () => {
    const root = tempDir();
    const script = path.join(tempDir(), "sigint.ts");
    fs.writeFileSync(
      script,
      `import { experiment } from ${JSON.stringify(path.resolve(__dirname, "../../src"))};
       (async () => { const exp = await experiment("sig", { root: ${JSON.stringify(root)}, capture: false });
         const run = await exp.start(); run.log("x", 1); process.stdout.write("ready\\n"); setInterval(() => run.log("x", 2), 5); })();`,
    );
    const child = spawn(process.execPath, [...TSX, script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.kill("SIGINT");
    const code = await new Promise((r) => child.on("exit", (c, s) => r(s ?? c)));
    assert.equal(code, "SIGINT");
    const rec = JSON.parse(fs.readFileSync(path.join(root, "sig/1/run.json"), "utf8"));
    assert.equal(rec.status, "interrupted");
    assert.equal(rec.endedBy, "signal");
  });
});

void execFileSync;

describe("the store's own folder", () => {
  it("moves the hidden folders of an older store into _labnote/ on first write, merging what is already there", async () => {
    const root = tempDir();
    const sha = "ab".padEnd(64, "0");
    for (const [old] of LEGACY_FOLDERS) fs.mkdirSync(path.join(root, old), { recursive: true });
    fs.mkdirSync(path.join(root, ".blobs", "ab"), { recursive: true });
    fs.writeFileSync(path.join(root, ".blobs", "ab", sha), "old source");
    fs.writeFileSync(path.join(root, ".sessions", "s1.jsonl"), "{}\n");
    fs.mkdirSync(path.join(root, BLOBS_DIR, "cd"), { recursive: true });
    fs.writeFileSync(path.join(root, BLOBS_DIR, "cd", "cd".padEnd(64, "1")), "new source");
    const exp = await experiment("moved", { root, capture: false });
    const run = await exp.start();
    await run.end();
    assert.equal(fs.readFileSync(path.join(root, blobPath(sha)), "utf8"), "old source");
    assert.equal(fs.readFileSync(path.join(root, blobPath("cd".padEnd(64, "1"))), "utf8"), "new source");
    assert.ok(fs.existsSync(path.join(root, SESSIONS_DIR, "s1.jsonl")));
    assert.deepEqual(fs.readdirSync(root).sort(), [STORE_DIR, "moved"]);
  });

  it("refuses an experiment named like the store's own folder", async () => {
    const root = tempDir();
    await assert.rejects(experiment(STORE_DIR, { root, capture: false }), (e: unknown) => isLabnoteError(e) && e.code === "INVALID_NAME" && /store's own folder/.test(e.message));
  });
});
