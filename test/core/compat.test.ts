import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ExperimentManager, createExperiment, getExperiment, isLabnoteError, whenWritten } from "../../src";
import { tempDir } from "./tmp";

describe("ExperimentManager (experiment_manager API)", () => {
  it("versions each experiment id, fills default metadata, and persists after every call", async () => {
    const logDir = tempDir();
    const m = new ExperimentManager({ logDir });
    await assert.rejects(m.logMetrics({ loss: [1] }), (e: unknown) => isLabnoteError(e) && e.code === "NO_ACTIVE_EXPERIMENT" && /startExperiment/.test(e.message));
    await assert.rejects(m.addCheckpoint("x"), /no experiment is active/);
    const r1 = await m.startExperiment({ configName: "mnist/baseline.v1", hyperparameters: { lr: 0.01 }, metadata: { precision: "fp32" } });
    assert.equal(r1.experimentId, "mnist_baseline_v1");
    assert.equal(r1.version, 1);
    assert.deepEqual(r1.metadata, { precision: "fp32", model_size: "unknown", dataset_version: "unknown", hardware_constraint_mode: "unknown" });
    await m.logMetrics({ loss: [0.9, 0.5] });
    // persisted now, before anything ends
    let hist = await m.readHistory("mnist_baseline_v1");
    assert.deepEqual(hist[0].metrics, { loss: [0.9, 0.5] });
    const ckpt = path.join(tempDir(), "epoch1.bin");
    fs.writeFileSync(ckpt, "weights");
    await m.addCheckpoint(ckpt);
    hist = await m.readHistory("mnist_baseline_v1");
    assert.deepEqual(hist[0].checkpoints, [ckpt]);
    const r2 = await m.startExperiment({ configName: "mnist/baseline.v1", hyperparameters: { lr: 0.1 }, metadata: {} });
    assert.equal(r2.version, 2);
    await m.logMetrics({ loss: [0.4, 0.3, 0.2] });
    await m.end();
    hist = await m.readHistory("mnist_baseline_v1");
    assert.deepEqual(hist.map((h) => [h.version, h.hyperparameters.lr, h.metrics.loss.length]), [
      [1, 0.01, 2],
      [2, 0.1, 3],
    ]);
    assert.equal(new Date(hist[0].createdAt).toISOString(), hist[0].createdAt);
    // it is a labnote experiment underneath: the metric points are there
    await whenWritten();
    assert.match(fs.readFileSync(path.join(logDir, "mnist_baseline_v1/2/metrics.csv"), "utf8"), /loss,2,0.2,/);
  });
});

describe("createExperiment (ExperimentManager package words)", () => {
  it("saves, logs scalars, injects config and turns functions into runs", async () => {
    const dir = tempDir();
    const xp = createExperiment("pkg", { experimentsDir: dir });
    assert.equal(getExperiment(), xp);
    xp.addConfig({ lr: 0.1, epochs: 2 });
    const train = xp.command(
      xp.capture(function train(lr: number, epochs: number) {
        for (let e = 0; e < epochs; e++) {
          xp.logScalar("loss", lr * (epochs - e));
          xp.logScalars("eval", [e, lr], ["epoch", "lr"]);
        }
        return lr;
      }),
    );
    assert.equal(await train(), 0.1);
    assert.equal(await train(0.5), 0.5);
    await xp.save({ note: "main" }, "summary");
    await xp.end();
    const hist = await xp.experiment.history();
    assert.deepEqual(hist.map((h) => [h.name, h.status]), [
      ["train", "completed"],
      ["train", "completed"],
      ["main", "completed"],
    ]);
    assert.equal(hist[1].metrics.loss.last, 0.5);
    assert.deepEqual(hist[0].metrics["eval/epoch"], { count: 2, lastStep: 1, last: 1, min: 0, max: 1 });
    assert.equal(fs.readFileSync(path.join(dir, "pkg/1/scalars/eval.csv"), "utf8"), "step,epoch,lr\n0,0,0.1\n1,1,0.1\n");
    assert.deepEqual(await (await xp.experiment.getRun(3)).load("summary"), { note: "main" });
  });

  it("ghost experiments write nothing", async () => {
    const dir = tempDir();
    const xp = createExperiment("ghost", { experimentsDir: dir, ghost: true });
    xp.logScalar("x", 1);
    await xp.end();
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
