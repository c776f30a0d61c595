/**
 * Sweeps in plain Node: grids and random draws, the record on disk, failing and interrupted
 * trials, resuming, and the errors bad input gets.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { experiment, isLabnoteError, parseSweepRecord, whenWritten, type SweepRecord } from "../../src";
import { SWEEP_MIME, SWEEPS_DIR, sweepPath, type SweepPayload } from "../../src/protocol";
import { sweepBundle } from "../../src/sinks/notebook/sweep-card";
import { gridPoint, gridSize, randomPoints } from "../../src/core/sweep/space";
import { tempDir } from "./tmp";

const quiet = { capture: { sources: false, output: false, git: false, host: false, dependencies: false } } as const;

function onDisk(root: string, experiment: string, n: number): SweepRecord {
  const parsed = parseSweepRecord(fs.readFileSync(path.join(root, sweepPath(experiment, n)), "utf8"));
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
  return parsed.record;
}

/** val_loss of a fake training run: lowest at lr 0.03, hidden 64. */
function loss(lr: number, hidden: number): number {
  return Math.abs(Math.log10(lr / 0.03)) + 64 / hidden;
}

describe("exp.sweep: grid", () => {
  it("runs every combination, records a failing trial and goes on, and finds the best", async () => {
    const root = tempDir();
    const exp = await experiment("grid", { root, config: { lr: 0.1, model: { hidden: 8 } }, ...quiet });
    const seen: string[] = [];
    const grid = await exp.sweep(
      { lr: [0.1, 0.03, 0.01], "model.hidden": [16, 32, 64] },
      async (run) => {
        const cfg = run.config as { lr: number; model: { hidden: number } };
        seen.push(`${cfg.lr}/${cfg.model.hidden}`);
        if (cfg.lr === 0.01 && cfg.model.hidden === 32) throw new Error("diverged");
        run.log("val_loss", loss(cfg.lr, cfg.model.hidden) + 1);
        run.log("val_loss", loss(cfg.lr, cfg.model.hidden));
      },
      { strategy: "grid", metric: "val_loss", goal: "min", name: "lr-hidden" },
    );
    assert.deepEqual(seen, ["0.1/16", "0.1/32", "0.1/64", "0.03/16", "0.03/32", "0.03/64", "0.01/16", "0.01/32", "0.01/64"]);
    assert.equal(grid.id, "grid/sweep-1");
    assert.equal(grid.status, "completed");
    assert.equal(grid.runs.length, 9);
    assert.deepEqual(
      grid.runs.map((r) => r.status).filter((s) => s !== "completed"),
      ["failed"],
    );
    assert.equal(grid.runs[7].error?.message, "diverged");
    assert.ok(grid.best);
    assert.deepEqual(grid.best.params, { lr: 0.03, "model.hidden": 64 });
    assert.equal(grid.best.value, loss(0.03, 64));
    assert.equal(grid.best.run, grid.runs[5].id);
    assert.equal((grid.best.config as { model: { hidden: number } }).model.hidden, 64);
    // Each trial is a run of the experiment, tagged with the sweep, its values as config updates.
    for (const r of grid.runs) {
      assert.ok(r.tags.includes("sweep-1"), `${r.id} tags ${r.tags}`);
      assert.deepEqual((r.metadata as { sweep: unknown }).sweep, { id: "grid/sweep-1", trial: grid.runs.indexOf(r) });
      assert.deepEqual(r.modified.sort(), r.config.lr === 0.1 ? ["model.hidden"] : ["lr", "model.hidden"]);
    }
    const rec = onDisk(root, "grid", 1);
    assert.equal(rec.status, "completed");
    assert.equal(rec.total, 9);
    assert.equal(rec.runs.length, 9);
    assert.equal(rec.runs[7].status, "failed");
    assert.equal(rec.runs[7].error, "diverged");
    assert.equal(rec.best?.run, grid.best.run);
    assert.equal(rec.name, "lr-hidden");

    // Reopened by id, in any of its spellings.
    for (const id of ["grid/sweep-1", "sweep-1", 1]) {
      const again = await exp.getSweep(id);
      assert.equal(again.best?.run, grid.best.run);
      assert.equal(again.runs.length, 9);
    }
    const table = await grid.table();
    assert.equal(table.numRows(), 9);
    assert.deepEqual(table.columnNames(), ["trial", "run", "status", "lr", "model.hidden", "val_loss", "duration", "error"]);
    assert.equal(table.get("run", 0), grid.best.run);
    assert.equal(table.get("status", 8), "failed");
    const values = table.array("val_loss").slice(0, 8) as number[];
    assert.deepEqual(values, [...values].sort((a, b) => a - b));
    // A finished sweep run again starts a new one.
    const second = await exp.sweep({ lr: [0.1], "model.hidden": [16] }, async (run) => run.log("val_loss", 1), { metric: "val_loss", name: "lr-hidden" });
    assert.equal(second.id, "grid/sweep-2");
    assert.deepEqual((await exp.sweeps()).map((s) => s.id), ["grid/sweep-1", "grid/sweep-2"]);
  });

  it("stops at the first failing trial with stopOnError, and throws its error", async () => {
    const root = tempDir();
    const exp = await experiment("stop", { root, ...quiet });
    let calls = 0;
    await assert.rejects(
      exp.sweep({ x: [1, 2, 3] }, async (run) => {
        calls++;
        if (run.config.x === 2) throw new Error("bad x");
      }, { stopOnError: true }),
      /bad x/,
    );
    assert.equal(calls, 2);
    const rec = onDisk(root, "stop", 1);
    assert.equal(rec.status, "failed");
    assert.deepEqual(rec.runs.map((t) => t.status), ["completed", "failed"]);
  });

  it("orders a grid with the first key slowest, and refuses distributions in a grid", async () => {
    const space = { a: [1, 2], b: { choice: ["x", "y", "z"] } };
    assert.equal(gridSize(space), 6);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => gridPoint(space, i)), [
      { a: 1, b: "x" }, { a: 1, b: "y" }, { a: 1, b: "z" }, { a: 2, b: "x" }, { a: 2, b: "y" }, { a: 2, b: "z" },
    ]);
    const exp = await experiment("bad", { root: tempDir(), ...quiet });
    const fn = async () => undefined;
    const cases: [unknown, object, RegExp][] = [
      [{ lr: { random: "uniform", min: 0, max: 1 } }, { strategy: "grid" }, /Invalid sweep space at "lr".*a grid runs every combination.*strategy: "random"/],
      [{ lr: [] }, {}, /"lr".*empty/],
      [{}, {}, /no keys/],
      [{ lr: { random: "log-uniform", min: 0, max: 1 } }, { trials: 2 }, /log-uniform needs min > 0/],
      [{ lr: { random: "normal", min: 0, max: 1 } }, { trials: 2 }, /unknown distribution "normal"/],
      [{ lr: { random: "uniform", min: 2, max: 1 } }, { trials: 2 }, /min \(2\) must be less than max \(1\)/],
      [{ n: { random: "int", min: 0.5, max: 3 } }, { trials: 2 }, /int needs whole min and max/],
      [{ lr: { random: "uniform", min: 0, max: 1 } }, {}, /A random sweep needs trials/],
      [{ lr: [1] }, { strategy: "bayes" }, /expected "grid" or "random"/],
      [{ lr: [1] }, { trials: 0 }, /Invalid trials/],
      [{ lr: 5 }, {}, /expected a list of values or a distribution/],
    ];
    for (const [space, options, message] of cases)
      await assert.rejects(exp.sweep(space as never, fn, options), (e: unknown) => isLabnoteError(e) && message.test((e as Error).message), `${JSON.stringify(space)} ${JSON.stringify(options)}`);
    await assert.rejects(exp.sweep({ lr: [1] }, 5 as never), /Invalid sweep callback/);
    await assert.rejects(exp.getSweep("other/sweep-1"), /Invalid sweep id/);
    await assert.rejects(exp.getSweep(4), /No sweep bad\/sweep-4/);
    // Nothing ran, nothing was recorded.
    assert.equal((await exp.history()).length, 0);
    assert.equal(fs.existsSync(path.join(exp.root, "bad", SWEEPS_DIR)), false);
  });

  it("warns about a config key the defaults lack once per sweep, and refuses it when strict", async () => {
    const root = tempDir();
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => void warnings.push(String(m));
    try {
      const exp = await experiment("typo", { root, config: { lr: 0.1 }, ...quiet });
      await exp.sweep({ lrr: [1, 2, 3] }, async () => undefined);
    } finally {
      console.warn = original;
    }
    assert.equal(warnings.filter((w) => /"lrr" is not in the defaults.*did you mean "lr"/.test(w)).length, 1, warnings.join("\n"));
    const strict = await experiment("strict", { root, config: { lr: 0.1 }, strict: true, ...quiet });
    await assert.rejects(strict.sweep({ lrr: [1, 2] }, async () => undefined), /did you mean "lr"/);
    assert.equal(onDisk(root, "strict", 1).status, "failed");
  });
});

describe("exp.sweep: random", () => {
  it("draws the same trials again from the recorded seed", async () => {
    const root = tempDir();
    const exp = await experiment("rand", { root, ...quiet });
    const space = { lr: { random: "log-uniform", min: 1e-4, max: 1e-1 }, "model.hidden": { choice: [16, 32, 64] }, layers: { random: "int", min: 1, max: 4 }, drop: { random: "uniform", min: 0, max: 0.5 } } as const;
    const first = await exp.sweep(space, async (run) => run.log("val_loss", (run.config as { lr: number }).lr), { strategy: "random", trials: 20, metric: "val_loss" });
    assert.ok(Number.isInteger(first.seed));
    assert.equal(onDisk(root, "rand", 1).seed, first.seed);
    const again = await exp.sweep(space, async (run) => run.log("val_loss", (run.config as { lr: number }).lr), { strategy: "random", trials: 20, seed: first.seed, metric: "val_loss", resume: false });
    assert.equal(again.id, "rand/sweep-2");
    assert.deepEqual(again.trials.map((t) => t.params), first.trials.map((t) => t.params));
    for (const t of first.trials) {
      const p = t.params as { lr: number; "model.hidden": number; layers: number; drop: number };
      assert.ok(p.lr >= 1e-4 && p.lr < 1e-1);
      assert.ok([16, 32, 64].includes(p["model.hidden"]));
      assert.ok(Number.isInteger(p.layers) && p.layers >= 1 && p.layers <= 4);
      assert.ok(p.drop >= 0 && p.drop < 0.5);
    }
    // Draws are spread: not all the same.
    assert.ok(new Set(first.trials.map((t) => (t.params as { layers: number }).layers)).size >= 3);
    assert.equal(first.best?.params.lr, Math.min(...first.trials.map((t) => (t.params as { lr: number }).lr)));
    // The generator itself: same seed, same points; more trials keep the first ones.
    assert.deepEqual(randomPoints(space, 7, 5), randomPoints(space, 7, 30).slice(0, 5));
    assert.notDeepEqual(randomPoints(space, 7, 5), randomPoints(space, 8, 5));
  });

  it("resumes an interrupted random sweep at the interrupted trial, a larger trials extending it", async () => {
    const root = tempDir();
    const exp = await experiment("extend", { root, ...quiet });
    const space = { x: { random: "uniform", min: 0, max: 1 } } as const;
    let calls = 0;
    // Trial 3 is interrupted (as SIGINT in plain Node ends it): the sweep ends interrupted.
    const first = await exp.sweep(space, async (run) => {
      calls++;
      if (calls === 3) throw new Error("interrupted by SIGINT");
      run.log("y", 1);
    }, { strategy: "random", trials: 5, seed: 11, name: "ext" });
    assert.equal(first.status, "interrupted");
    assert.deepEqual(first.trials.map((t) => t.status), ["completed", "completed", "interrupted"]);
    // Run again with more trials: resumes the same sweep at trial 3 and draws up to 8.
    const ran: number[] = [];
    const second = await exp.sweep(space, async (run) => {
      ran.push((run.record().metadata as { sweep: { trial: number } }).sweep.trial);
      run.log("y", 1);
    }, { strategy: "random", trials: 8, name: "ext" });
    assert.equal(second.id, first.id);
    assert.equal(second.seed, 11);
    assert.equal(second.status, "completed");
    assert.deepEqual(ran, [2, 3, 4, 5, 6, 7]);
    assert.deepEqual(second.trials.slice(0, 3).map((t) => t.params), first.trials.map((t) => t.params));
    assert.deepEqual(second.trials.map((t) => t.params), randomPoints(space, 11, 8).reduce<unknown[]>((out, p, i) => (i === 2 ? [...out, p, p] : [...out, p]), []));
    assert.equal(onDisk(root, "extend", 1).total, 8);
    // Finished: running it again starts sweep 2; resume: false always does.
    const third = await exp.sweep(space, async () => undefined, { strategy: "random", trials: 8, name: "ext" });
    assert.equal(third.id, "extend/sweep-2");
  });

  it("resumes an unnamed sweep by its space and strategy, and not another space's", async () => {
    const root = tempDir();
    const exp = await experiment("unnamed", { root, ...quiet });
    let n = 0;
    const a = await exp.sweep({ x: [1, 2, 3, 4] }, async () => {
      if (++n === 2) throw new Error("Interrupted asynchronously");
    });
    assert.equal(a.status, "interrupted");
    const other = await exp.sweep({ x: [1, 2, 3, 5] }, async () => undefined);
    assert.equal(other.id, "unnamed/sweep-2");
    const ran: unknown[] = [];
    const resumed = await exp.sweep({ x: [1, 2, 3, 4] }, async (run) => void ran.push(run.config.x));
    assert.equal(resumed.id, a.id);
    assert.deepEqual(ran, [2, 3, 4]);
    const fresh = await exp.sweep({ x: [1, 2] }, async () => undefined, { resume: false });
    assert.equal(fresh.id, "unnamed/sweep-3");
  });
});

describe("exp.sweep: ghost", () => {
  it("runs in memory and writes nothing", async () => {
    const root = tempDir();
    const exp = await experiment("ghosts", { root, ghost: true, ...quiet });
    const s = await exp.sweep({ x: [3, 1, 2] }, async (run) => run.log("m", run.config.x as number), { metric: "m", goal: "max" });
    assert.equal(s.best?.value, 3);
    assert.equal(s.runs.length, 3);
    assert.equal(fs.existsSync(path.join(root, "ghosts")), false);
    await assert.rejects(exp.getSweep(s.id), /ghost/);
  });
});

/**
 * A store on a small tmpfs of its own (a real full disk), or undefined when this machine does not
 * let the test mount one (it needs root). Unmounted when the test file ends.
 */
function smallDisk(kib: number): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-full-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  after(async () => {
    await whenWritten();
    spawnSync("umount", ["-l", dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fill the disk under `dir` until a write fails with ENOSPC; the filler file's path. */
function fill(dir: string): string {
  const file = path.join(dir, "filler.bin");
  const fd = fs.openSync(file, "w");
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, "ENOSPC");
  }
  try {
    for (;;) fs.writeSync(fd, chunk.subarray(0, 1));
  } catch {
    /* not even a byte left */
  }
  fs.closeSync(fd);
  return file;
}

/** What console.warn says while `fn` runs. */
async function warnings<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; seen: string[] }> {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
  try {
    return { value: await fn(), seen };
  } catch (error) {
    return { error, seen };
  } finally {
    console.warn = original;
  }
}

describe("exp.sweep: a trial whose end cannot be written", () => {
  it("on a full disk is recorded failed with the reason, the sweep goes on once there is room, and the card says so", async (t) => {
    const root = smallDisk(2048);
    if (!root) return t.skip("mounting a tmpfs needs root");
    let filler: string | undefined;
    // Once the store has failed to write the run's end (the file sink hears the end first), the
    // disk is freed: the next trials start and write as usual.
    const freeing = { ended: () => void (filler && fs.rmSync(filler), (filler = undefined)) };
    const exp = await experiment("full", { root, ...quiet, capture: false, sinks: [freeing] });
    const r = await warnings(() =>
      exp.sweep(
        { x: [1, 2, 3] },
        async (run) => {
          const x = run.config.x as number;
          run.log("m", x);
          if (x === 1) filler = fill(root);
        },
        { metric: "m", goal: "max" },
      ),
    );
    assert.equal(r.error, undefined, String(r.error));
    const s = r.value!;
    assert.equal(s.status, "completed");
    assert.deepEqual(
      s.trials.map((x) => x.status),
      ["failed", "completed", "completed"],
    );
    assert.match(s.trials[0].error ?? "", /the run's end could not be written: .*(ENOSPC|no space)/i);
    assert.equal(s.best?.value, 3);
    // The record on disk says the same (it was written again once the disk had room).
    const disk = onDisk(root, "full", 1);
    assert.equal(disk.status, "completed");
    assert.deepEqual(
      disk.runs.map((x) => x.status),
      ["failed", "completed", "completed"],
    );
    assert.match(disk.runs[0].error ?? "", /ENOSPC|no space/i);
    assert.ok(r.seen.some((m) => /trial 1 of sweep full\/sweep-1 .* is recorded failed/.test(m)), r.seen.join("\n"));
    // The card: one failed, and why.
    const bundle = sweepBundle({ record: () => disk, current: () => undefined, keys: ["x"] });
    const text = bundle["text/plain"] as string;
    assert.match(text, /3\/3 trials · 1 failed/);
    assert.match(text, /failed: trial 1 · full\/1 · the run's end could not be written/);
    assert.match(bundle["text/html"] as string, /failed: trial 1 · full\/1 · the run&#39;s end could not be written|failed: trial 1 · full\/1 · the run's end could not be written/);
    const payload = bundle[SWEEP_MIME] as SweepPayload;
    assert.equal(payload.failed, 1);
    assert.equal(payload.rows.find((x) => x.trial === 0)?.status, "failed");
    assert.match(payload.failure?.error ?? "", /ENOSPC|no space/i);
  });

  it("with stopOnError, fails the sweep with the store's error and runs no more trials", async (t) => {
    const root = smallDisk(2048);
    if (!root) return t.skip("mounting a tmpfs needs root");
    const exp = await experiment("fullstop", { root, ...quiet, capture: false });
    let filler: string | undefined;
    let ran = 0;
    const r = await warnings(() =>
      exp.sweep(
        { x: [1, 2, 3] },
        async (run) => {
          ran++;
          run.log("m", run.config.x as number);
          filler = fill(root);
        },
        { metric: "m", stopOnError: true },
      ),
    );
    assert.ok(isLabnoteError(r.error), String(r.error));
    assert.match(String((r.error as Error).message) + String((r.error as { cause?: unknown }).cause ?? ""), /ENOSPC|no space/i);
    assert.equal(ran, 1);
    fs.rmSync(filler!);
    // Once the disk has room the record is written again: the trial failed, the sweep failed.
    const deadline = Date.now() + 5000;
    let disk = onDisk(root, "fullstop", 1);
    while (disk.status === "running" && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      disk = onDisk(root, "fullstop", 1);
    }
    const back = await exp.getSweep(1);
    assert.equal(back.trials.length, 1);
    assert.equal(back.trials[0].status, "failed");
    assert.match(back.trials[0].error ?? "", /could not be written/);
  });
});
