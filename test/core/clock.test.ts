import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { experiment } from "../../src";
import { CLOCK } from "../../src/core/util/clock";
import { tempDir } from "./tmp";

const quiet = { capture: false } as const;

describe("the time of each point", () => {
  it("lies between the clock readings around a fast loop, and never goes back", async () => {
    const exp = await experiment("clock", { root: tempDir(), ...quiet });
    const run = await exp.start();
    const before = Date.now();
    for (let i = 0; i < 300_000; i++) run.log("loss", i);
    const after = Date.now();
    const { times } = run.metric("loss");
    await run.end();
    assert.equal(times.length, 300_000);
    for (let i = 0; i < times.length; i++) {
      assert.ok(times[i] >= before && times[i] <= after, `point ${i}: ${times[i]} outside [${before}, ${after}]`);
      if (i > 0) assert.ok(times[i] >= times[i - 1], `point ${i} is earlier than point ${i - 1}`);
    }
  });

  it("is the time of the call in a slow loop, and after the process sat idle", async () => {
    const exp = await experiment("clock", { root: tempDir(), ...quiet });
    const run = await exp.start();
    for (let i = 0; i < 40; i++) {
      // Idle long enough for the clock thread to stop ticking, now and then.
      await sleep(i % 10 === 0 ? 400 : 7);
      const before = Date.now();
      run.log("loss", i);
      const after = Date.now();
      const t = run.metric("loss").times[i];
      // The clock thread may be a tick (or, on a busy machine, a few) behind; a clock that
      // stopped would be hundreds of milliseconds behind here.
      assert.ok(t >= before - 50 && t <= after, `point ${i}: ${t} outside [${before} - 50 ms, ${after}]`);
    }
    await run.end();
  });

  it("stops ticking when nothing is logged (an idle kernel with a run open costs nothing)", async () => {
    const exp = await experiment("clock", { root: tempDir(), ...quiet });
    const run = await exp.start();
    for (let i = 0; i < 1000; i++) run.log("loss", i);
    // Ticking while logging: the shared time is a recent reading.
    await sleep(20);
    run.log("loss", 1);
    const ticking = CLOCK[0];
    assert.ok(Number.isNaN(ticking) || Math.abs(ticking - Date.now()) < 1000, `shared time ${ticking}`);
    await sleep(800);
    assert.ok(Number.isNaN(CLOCK[0]), `the clock thread still ticks after 800 ms without a point (${CLOCK[0]})`);
    await run.end();
  });
});
