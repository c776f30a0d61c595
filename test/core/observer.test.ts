import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { experiment, type RunObserver } from "../../src";
import { tempDir, warningsDuring } from "./tmp";

describe("observers", () => {
  it("get run started, metric batches, artifacts, heartbeats and run ended, in order", async () => {
    const events: string[] = [];
    let points = 0;
    const obs: RunObserver = {
      started: (run) => events.push(`started ${run.id}`),
      metrics: (_run, batch) => {
        events.push("metrics");
        for (const b of batch) points += b.to - b.from;
      },
      artifact: (_run, a) => events.push(`artifact ${a.name}`),
      heartbeat: () => events.push("heartbeat"),
      ended: (run) => events.push(`ended ${run.status}`),
    };
    const exp = await experiment("o", { root: tempDir(), capture: false, observers: [obs] });
    await exp.run(async (run) => {
      for (let i = 0; i < 1000; i++) run.log("x", i);
      await run.save({ a: 1 }, "thing");
    });
    assert.equal(events[0], "started o/1");
    assert.ok(events.includes("artifact thing"));
    assert.ok(events.includes("metrics"));
    assert.equal(events.at(-1), "ended completed");
    assert.equal(points, 1000);
  });

  it("a failing observer is reported once and never breaks the run", async () => {
    const exp = await experiment("o", { root: tempDir(), capture: false });
    const warnings = await warningsDuring(async () => {
      const run = await exp.start({ observers: [{ metrics: () => { throw new Error("sink down"); } }] });
      for (let i = 0; i < 3; i++) {
        run.log("x", i);
        run.flush();
      }
      await run.end();
    });
    assert.equal(warnings.filter((w) => w.includes("sink down")).length, 1);
    assert.equal((await exp.history())[0].metrics.x.count, 3);
  });
});

describe("outside a notebook kernel", () => {
  it("has no cell scoping and says nothing about it: a started run stays open until end()", async () => {
    const exp = await experiment("plain", { root: tempDir(), capture: false });
    const warnings = await warningsDuring(async () => {
      const run = await exp.start();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(run.status, "running");
      await run.end();
    });
    assert.deepEqual(warnings, []);
  });
});
