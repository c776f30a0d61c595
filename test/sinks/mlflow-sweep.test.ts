/**
 * Sweeps in MLflow against a real `mlflow server`: the sweep is a parent run (its name, params,
 * tags, best value so far and final status) and each trial a child run tagged
 * `mlflow.parentRunId`, found through MLflow's REST API; a resumed sweep keeps its parent; a
 * sweep run while the server is down nests the same way once `labnote sync` sends it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment } from "../../src";
import { SWEEPS_DIR } from "../../src/protocol";
import { readOutbox } from "../../src/sinks/mlflow/outbox";
import { captureWarnings, DELIVERY_MS, useMlflowServer, type SearchedRun } from "../helpers/mlflow";
import { tempDir } from "../core/tmp";

const MAIN = path.resolve(__dirname, "../../src/cli/main.ts");
const SWEEP = path.resolve(__dirname, "fixtures/mlflow-sweep.ts");

const mlflow = useMlflowServer();

/** The sweep's parent run in MLflow (exactly one), and its children by `mlflow.parentRunId`. */
async function family(experimentName: string, sweepId: string): Promise<{ parent: SearchedRun; children: SearchedRun[] }> {
  const { parents, children } = await mlflow.sweepFamily(experimentName, sweepId);
  assert.equal(parents.length, 1, `parent runs of ${sweepId}: ${JSON.stringify(parents.map((p) => p.info))}`);
  return { parent: parents[0], children };
}

describe("a sweep with the MLflow sink", () => {
  it("is a parent run whose children are its trials: params, tags, best so far, statuses", async () => {
    const root = tempDir();
    const exp = await experiment("nested", { root, capture: false, config: { lr: 0.1, model: { hidden: 8 } }, mlflow: { trackingUri: mlflow.uri } });
    const grid = await exp.sweep(
      { lr: [0.1, 0.01], "model.hidden": [16, 32] },
      async (run) => {
        const c = run.config as { lr: number; model: { hidden: number } };
        if (c.lr === 0.01 && c.model.hidden === 16) throw new Error("diverged");
        run.log("val_loss", c.lr * 100 + 32 / c.model.hidden);
      },
      { metric: "val_loss", goal: "min", name: "lr-hidden", seed: 11 },
    );
    assert.equal(grid.status, "completed");
    const sweeps = path.join(root, "nested", SWEEPS_DIR);
    await mlflow.delivered(sweeps, { file: "1.mlflow.json" });
    for (const r of grid.runs) await mlflow.delivered(path.join(root, "nested", String(r.number)));

    const { parent, children } = await family("nested", "nested/sweep-1");
    assert.equal(parent.info.run_name, "lr-hidden");
    assert.equal(parent.info.status, "FINISHED");
    assert.equal(parent.params.lr, "[0.1,0.01]");
    assert.equal(parent.params["model.hidden"], "[16,32]");
    assert.equal(parent.params["sweep.strategy"], "grid");
    assert.equal(parent.params["sweep.seed"], "11");
    assert.equal(parent.params["sweep.metric"], "val_loss");
    assert.equal(parent.params["sweep.goal"], "min");
    assert.equal(parent.tags["labnote.sweep.trials"], "4");
    assert.equal(parent.tags["labnote.status"], "completed");
    assert.equal(parent.tags["labnote.run_id"], undefined, "the parent is no run of labnote's");
    assert.equal(parent.metrics.best_val_loss, grid.best!.value);
    assert.equal(parent.metrics.trials_done, 4);
    assert.equal(parent.metrics.trials_failed, 1);
    // Every trial is a child, with its own params and status, and says which trial it is.
    assert.deepEqual(
      children.map((c) => c.tags["labnote.run_id"]),
      grid.runs.map((r) => r.id),
    );
    assert.deepEqual(
      children.map((c) => c.info.status),
      ["FINISHED", "FINISHED", "FAILED", "FINISHED"],
    );
    assert.deepEqual(
      children.map((c) => [c.params.lr, c.params["model.hidden"], c.tags["labnote.sweep"], c.tags["labnote.trial"]]),
      [
        ["0.1", "16", "nested/sweep-1", "0"],
        ["0.1", "32", "nested/sweep-1", "1"],
        ["0.01", "16", "nested/sweep-1", "2"],
        ["0.01", "32", "nested/sweep-1", "3"],
      ],
    );
    // The outboxes name the parent.
    for (const r of grid.runs) assert.equal(readOutbox(path.join(root, "nested", String(r.number)))?.parentRunId, parent.info.run_id);
  });

  it("a sweep interrupted and resumed keeps one parent: KILLED, then RUNNING again, then FINISHED with every trial under it", async () => {
    const root = tempDir();
    const exp = await experiment("resumed", { root, capture: false, mlflow: { trackingUri: mlflow.uri } });
    let calls = 0;
    const train = async (run: { config: Record<string, unknown>; log(name: string, v: number): void }) => {
      if (++calls === 2) throw new Error("Interrupted asynchronously");
      run.log("acc", run.config.x as number);
    };
    const first = await exp.sweep({ x: [1, 2, 3] }, train, { metric: "acc", goal: "max", name: "again" });
    assert.equal(first.status, "interrupted");
    const sweeps = path.join(root, "resumed", SWEEPS_DIR);
    await mlflow.delivered(sweeps, { file: "1.mlflow.json" });
    let f = await family("resumed", "resumed/sweep-1");
    assert.equal(f.parent.info.status, "KILLED");
    assert.equal(f.parent.tags["labnote.status"], "interrupted");

    // While the resumed sweep runs, its parent is RUNNING again.
    let whileRunning = "";
    const second = await exp.sweep(
      { x: [1, 2, 3] },
      async (run) => {
        for (const deadline = Date.now() + DELIVERY_MS; whileRunning !== "RUNNING" && Date.now() < deadline; ) {
          whileRunning = (await family("resumed", "resumed/sweep-1")).parent.info.status;
          if (whileRunning !== "RUNNING") await new Promise((r) => setTimeout(r, 200));
        }
        await train(run);
      },
      { metric: "acc", goal: "max", name: "again" },
    );
    assert.equal(whileRunning, "RUNNING");
    assert.equal(second.id, first.id);
    assert.equal(second.status, "completed");
    await mlflow.delivered(sweeps, { file: "1.mlflow.json" });
    for (const r of second.runs) await mlflow.delivered(path.join(root, "resumed", String(r.number)));
    f = await family("resumed", "resumed/sweep-1");
    assert.equal(f.parent.info.status, "FINISHED");
    assert.equal(f.parent.metrics.best_acc, 3);
    assert.equal(f.parent.metrics.trials_done, 4, "the interrupted attempt counts among the trials that ended");
    assert.deepEqual(
      f.children.map((c) => [c.tags["labnote.trial"], c.info.status]),
      [
        ["0", "FINISHED"],
        ["1", "KILLED"],
        ["1", "FINISHED"],
        ["2", "FINISHED"],
      ],
    );
  });

  it("run while the server is down, in a process that then exits: labnote sync creates the parent and nests every trial", async () => {
    const root = tempDir();
    await mlflow.server.stop();
    let out = "";
    let err = "";
    try {
      const child = spawn(process.execPath, ["--import", "tsx", SWEEP, root, mlflow.server.uri], { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      assert.equal(code, 0, err);
    } finally {
      await mlflow.ensureRunning();
    }
    assert.match(out, /swept completed/);
    assert.match(err, /cannot be reached/);
    const sweeps = path.join(root, "swept", SWEEPS_DIR);
    const box = readOutbox(sweeps, "1.mlflow.json");
    assert.equal(box?.done, false);
    assert.equal(box?.runId, undefined);
    for (const n of [1, 2, 3]) {
      const b = readOutbox(path.join(root, "swept", String(n)));
      assert.equal(b?.parent, "swept/sweep-1");
      assert.equal(b?.parentRunId, undefined);
    }

    const sync = spawnSync(process.execPath, ["--import", "tsx", MAIN, "sync", "--root", root], { encoding: "utf8", timeout: DELIVERY_MS });
    assert.equal(sync.status, 0, `${sync.stdout}\n${sync.stderr}`);
    assert.match(sync.stdout, /swept\/sweep-1: in MLflow as run \w+ of experiment "swept" \(FINISHED\)/);
    assert.match(sync.stdout, /swept\/2: in MLflow as run \w+ of experiment "swept" \(FAILED\)/);
    const { parent, children } = await family("swept", "swept/sweep-1");
    assert.equal(parent.info.run_name, "grid-x");
    assert.equal(parent.info.status, "FINISHED");
    assert.equal(parent.metrics.best_val, 7);
    assert.deepEqual(
      children.map((c) => [c.tags["labnote.run_id"], c.info.status]),
      [
        ["swept/1", "FINISHED"],
        ["swept/2", "FAILED"],
        ["swept/3", "FINISHED"],
      ],
    );
    const again = spawnSync(process.execPath, ["--import", "tsx", MAIN, "sync", "--root", root], { encoding: "utf8" });
    assert.equal(again.status, 0);
    assert.match(again.stdout, /Nothing to send/);
  });

  it("a sweep of a ghost experiment nests its trials too, and nothing of it is written", async () => {
    const root = tempDir();
    const w = captureWarnings();
    let s;
    try {
      const exp = await experiment("ghostly", { root, ghost: true, capture: false, mlflow: { trackingUri: mlflow.uri } });
      s = await exp.sweep({ x: [1, 2] }, async (run) => run.log("m", run.config.x as number), { metric: "m" });
    } finally {
      w.restore();
    }
    assert.equal(fs.existsSync(path.join(root, "ghostly")), false);
    const deadline = Date.now() + DELIVERY_MS;
    for (;;) {
      const parents = await mlflow.search("ghostly", "tags.`labnote.sweep_id` = 'ghostly/sweep-1'").catch(() => []);
      if (parents.length === 1 && parents[0].info.status === "FINISHED") {
        const kids = await mlflow.search("ghostly", `tags.\`mlflow.parentRunId\` = '${parents[0].info.run_id}'`);
        if (kids.length === 2 && kids.every((k) => k.info.status === "FINISHED")) break;
      }
      assert.ok(Date.now() < deadline, "the ghost sweep did not reach MLflow");
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(s.runs.length, 2);
  });
});
