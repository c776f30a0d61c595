/**
 * The TensorBoard sink, checked with TensorBoard's own Python reader (EventAccumulator): every
 * point exactly (values at float32 precision), steps, wall times, histogram buckets, the config.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { experiment, isLabnoteError } from "../../src";
import { helperScript, venvPython } from "../helpers/env";
import { tempDir } from "../core/tmp";

interface Read {
  scalars: Record<string, { steps: number[]; values: string; wallTimes: string }>;
  histograms: Record<string, { step: number; wallTime: number; min: number; max: number; num: number; limits: number[]; counts: number[] }[]>;
  texts: Record<string, [number, string][]>;
}

function readEvents(folder: string): Read {
  const out = execFileSync(venvPython(), [helperScript("tensorboard_read.py"), folder], { encoding: "utf8", maxBuffer: 1 << 28 });
  return JSON.parse(out) as Read;
}

function doubles(hex: string): Float64Array {
  const b = Buffer.from(hex, "hex");
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function eventFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents."));
}

describe("the TensorBoard sink", () => {
  it("writes 100,000 points, odd values and names, and a histogram that TensorBoard's reader loads exactly", async () => {
    const root = tempDir();
    const exp = await experiment("tb", { root, capture: false, config: { lr: 0.01, model: { hidden: 64, act: "relu|gelu" } }, tensorboard: true });
    const run = await exp.start({ name: "hundred thousand" });
    for (let i = 0; i < 100_000; i++) run.log("loss", Math.exp(-i / 20_000) + Math.sin(i) * 1e-3);
    const odd = [NaN, Infinity, -Infinity, -0, 1e-45, 3.4e39, 0.1, -123456.789];
    for (const v of odd) run.log("val/acc, top-1 \"strict\"", v);
    run.log("größe", 2.5, 2 ** 40);
    run.logHistogram("weights", [0.1, 0.2, 0.2, 0.9, NaN, 0.5, 0.55], 3, 4);
    await run.end();

    const dir = path.join(run.dir!, "tensorboard");
    assert.equal(eventFiles(dir).length, 1);
    const read = readEvents(dir);
    const again = await exp.getRun(run.id);
    for (const name of ["loss", "val/acc, top-1 \"strict\"", "größe"]) {
      const p = again.metric(name);
      const got = read.scalars[name];
      assert.ok(got, `no scalars for ${name}: ${Object.keys(read.scalars)}`);
      assert.deepEqual(got.steps, p.steps, name);
      const values = doubles(got.values);
      const times = doubles(got.wallTimes);
      assert.equal(values.length, p.values.length);
      for (let i = 0; i < values.length; i++) {
        assert.ok(Object.is(values[i], Math.fround(p.values[i])), `${name}[${i}]: ${values[i]} ≠ float32(${p.values[i]})`);
        assert.equal(times[i], p.times[i] / 1000, `${name}[${i}] wall time`);
      }
    }
    const h = read.histograms.weights;
    assert.equal(h.length, 1);
    const mine = again.histograms("weights")[0];
    assert.equal(h[0].step, 3);
    assert.deepEqual(h[0].counts, mine.counts);
    assert.deepEqual(h[0].limits, mine.edges.slice(1));
    assert.equal(h[0].min, mine.edges[0]);
    assert.equal(h[0].num, 6);
    assert.equal(h[0].wallTime, mine.time / 1000);
    const config = read.texts.config[0][1];
    assert.match(config, /\| lr \| 0\.01 \|/);
    assert.match(config, /\| model\.hidden \| 64 \|/);
    assert.match(config, /relu\\\|gelu/);
    assert.match(read.texts.labnote[0][1], /tb\/1/);
    assert.equal(read.texts.status[0][1], "completed");
  });

  it("shows a running run: points are in the files within a second, before the run ends", async () => {
    const root = tempDir();
    const exp = await experiment("live", { root, capture: false, tensorboard: true });
    const run = await exp.start();
    for (let i = 0; i < 500; i++) run.log("loss", i);
    // The loop pauses (the cell awaits something): the points are handed over within a flush.
    await sleep(1000);
    const read = readEvents(path.join(run.dir!, "tensorboard"));
    assert.equal(read.scalars.loss?.steps.length, 500, `${read.scalars.loss?.steps.length} points while running`);
    assert.equal(run.status, "running");
    await run.end();
  });

  it("puts every run under one folder with { dir }, one subfolder per run named for the run selector", async () => {
    const root = tempDir();
    const tb = path.join(tempDir(), "tb");
    const exp = await experiment("mnist", { root, capture: false, tensorboard: { dir: tb } });
    for (const name of ["baseline", "lr/2"]) {
      const run = await exp.start({ name });
      run.log("loss", 1);
      await run.end();
    }
    assert.deepEqual(fs.readdirSync(path.join(tb, "mnist")).sort(), ["0001 baseline", "0002 lr_2"]);
    for (const sub of ["0001 baseline", "0002 lr_2"]) assert.deepEqual(readEvents(path.join(tb, "mnist", sub)).scalars.loss.steps, [0]);
  });

  it("exports past runs with labnote export --to tensorboard, once per point however often it is run", async () => {
    const root = tempDir();
    const out = path.join(tempDir(), "tb");
    const exp = await experiment("past", { root, capture: false, config: { lr: 0.1 } });
    const run = await exp.start({ name: "old run" });
    for (let i = 0; i < 5000; i++) run.log("loss", 1 / (i + 1));
    run.logHistogram("w", [1, 2, 3], 0, 3);
    await run.end();
    const main = path.join(__dirname, "../../src/cli/main.ts");
    for (let k = 0; k < 2; k++) {
      const r = spawnSync(process.execPath, ["--import", "tsx", main, "export", "past", "--to", "tensorboard", "--out", out, "--root", root], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /past\/1: 5000 points, 1 histograms/);
    }
    const dir = path.join(out, "past", "0001 old run");
    assert.equal(eventFiles(dir).length, 1);
    const read = readEvents(dir);
    const p = (await exp.getRun(1)).metric("loss");
    assert.deepEqual(read.scalars.loss.steps, p.steps);
    assert.ok(doubles(read.scalars.loss.values).every((v, i) => v === Math.fround(p.values[i])));
    assert.equal(read.histograms.w.length, 1);
    assert.match(read.texts.config[0][1], /\| lr \| 0\.1 \|/);
    const bad = spawnSync(process.execPath, ["--import", "tsx", main, "export", "past", "--to", "tensorboard", "--root", root], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--to tensorboard needs --out DIR/);
  });

  it("refuses an option it cannot use, saying what it takes", async () => {
    await assert.rejects(
      experiment("x", { root: tempDir(), tensorboard: "yes" as never }),
      (e: unknown) => isLabnoteError(e) && /tensorboard/.test(e.message) && /expected true or \{ dir/.test(e.message),
    );
  });
});
