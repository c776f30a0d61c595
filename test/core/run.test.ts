import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, isLabnoteError } from "../../src";
import { tempDir } from "./tmp";

const quiet = { capture: { sources: false, output: false, git: false } } as const;

describe("runs", () => {
  it("records a manual run from start to end with times and status", async () => {
    const root = tempDir();
    const exp = await experiment("mnist", { root, config: { lr: 0.01 }, ...quiet });
    const run = await exp.start({ name: "baseline", tags: ["v1"] });
    assert.equal(run.status, "running");
    assert.equal(run.id, "mnist/1");
    const onDisk = JSON.parse(fs.readFileSync(path.join(root, "mnist/1/run.json"), "utf8"));
    assert.equal(onDisk.status, "running");
    await run.end();
    const rec = JSON.parse(fs.readFileSync(path.join(root, "mnist/1/run.json"), "utf8"));
    assert.equal(rec.status, "completed");
    assert.equal(rec.name, "baseline");
    assert.deepEqual(rec.tags, ["v1"]);
    assert.ok(rec.endTime >= rec.startTime);
    assert.equal(rec.duration, rec.endTime - rec.startTime);
  });

  it("records the callback's result and completes", async () => {
    const exp = await experiment("e", { root: tempDir(), ...quiet });
    const out = await exp.run(async (run) => {
      run.log("loss", 1);
      return { acc: 0.9 };
    });
    assert.deepEqual(out, { acc: 0.9 });
    const [rec] = await exp.history();
    assert.equal(rec.status, "completed");
    assert.deepEqual(rec.result, { acc: 0.9 });
    assert.equal(rec.endedBy, "callback");
  });

  it("records a failing callback's error and stack, and re-throws it", async () => {
    const exp = await experiment("e", { root: tempDir(), ...quiet });
    await assert.rejects(
      exp.run(async () => {
        throw new TypeError("bad shape");
      }),
      /bad shape/,
    );
    const [rec] = await exp.history();
    assert.equal(rec.status, "failed");
    assert.equal(rec.error?.message, "bad shape");
    assert.equal(rec.error?.name, "TypeError");
    assert.match(rec.error?.stack ?? "", /run\.test\.ts/);
  });

  it("marks an interrupted callback as interrupted", async () => {
    const exp = await experiment("e", { root: tempDir(), ...quiet });
    await assert.rejects(exp.run(async () => Promise.reject(new Error("Interrupted asynchronously"))));
    assert.equal((await exp.history())[0].status, "interrupted");
  });

  it("keeps several open runs apart; exp.current is the newest open one", async () => {
    const exp = await experiment("e", { root: tempDir(), ...quiet });
    const a = await exp.start({ name: "a" });
    const b = await exp.start({ name: "b" });
    assert.equal(exp.current, b);
    a.log("x", 1);
    b.log("x", 2);
    b.log("x", 3);
    await b.end();
    assert.equal(exp.current, a);
    await a.end();
    assert.equal(exp.current, undefined);
    const [ra, rb] = await exp.history();
    assert.equal(ra.metrics.x.count, 1);
    assert.equal(rb.metrics.x.count, 2);
  });

  it("numbers runs 1, 2, 3 per experiment", async () => {
    const root = tempDir();
    const e1 = await experiment("one", { root, ...quiet });
    const e2 = await experiment("two", { root, ...quiet });
    for (let i = 0; i < 3; i++) await (await e1.start()).end();
    await (await e2.start()).end();
    assert.deepEqual((await e1.history()).map((r) => r.number), [1, 2, 3]);
    assert.deepEqual((await e2.history()).map((r) => r.id), ["two/1"]);
  });

  it("refuses calls on an ended run with a clear error", async () => {
    const exp = await experiment("e", { root: tempDir(), ...quiet });
    const run = await exp.start();
    await run.end();
    assert.throws(() => run.log("x", 1), (e: unknown) => isLabnoteError(e) && e.code === "RUN_ENDED" && /has ended \(completed\)/.test(e.message));
  });

  it("gives the same random sequence for the same seed", async () => {
    const exp = await experiment("e", { root: tempDir(), ...quiet });
    const a = await exp.start({ seed: 7 });
    const b = await exp.start({ seed: 7 });
    const c = await exp.start({ seed: 8 });
    const sa = [a.random(), a.random(), a.random()];
    assert.deepEqual(sa, [b.random(), b.random(), b.random()]);
    assert.notDeepEqual(sa, [c.random(), c.random(), c.random()]);
    assert.ok(sa.every((x) => x >= 0 && x < 1));
    for (const r of [a, b, c]) await r.end();
    assert.equal((await exp.history())[0].seed, 7);
  });

  it("ghost runs write nothing at all", async () => {
    const root = tempDir();
    const exp = await experiment("ghosty", { root, ghost: true });
    const out = await exp.run(async (run) => {
      run.log("loss", 1);
      await run.save({ a: 1 }, "x");
      assert.deepEqual(await run.load("x"), { a: 1 });
      return 3;
    });
    assert.equal(out, 3);
    assert.deepEqual(fs.readdirSync(root), []);
    assert.equal((await exp.history())[0].status, "completed");
  });
});
