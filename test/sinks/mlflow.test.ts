/**
 * The MLflow sink against a real `mlflow server` (SQLite backend, served artifacts), checked
 * with MLflow's own Python client: every param, every metric point with its step, the tags, the
 * artifacts and the final status; a server stopped and started again in the middle of a run; a
 * process killed while the server is down, completed by `labnote sync`. Credentials:
 * mlflow-credentials.test.ts.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { experiment, isLabnoteError } from "../../src";
import { readOutbox } from "../../src/sinks/mlflow/outbox";
import { mlflowKey } from "../../src/sinks/mlflow/rules";
import { captureWarnings, doubles, DELIVERY_MS, useMlflowServer } from "../helpers/mlflow";
import { tempDir } from "../core/tmp";

const MAIN = path.resolve(__dirname, "../../src/cli/main.ts");
const DOOMED = path.resolve(__dirname, "fixtures/mlflow-doomed.ts");
const mlflow = useMlflowServer();
const { oneRun } = mlflow;
const delivered = (dir: string) => mlflow.delivered(dir);

describe("the MLflow sink", () => {
  it("refuses mlflow: true without MLFLOW_TRACKING_URI, and options it cannot use, saying what to do", async () => {
    const saved = process.env.MLFLOW_TRACKING_URI;
    delete process.env.MLFLOW_TRACKING_URI;
    try {
      await assert.rejects(experiment("x", { root: tempDir(), mlflow: true }), (e: unknown) => isLabnoteError(e) && /MLFLOW_TRACKING_URI/.test(e.message) && /trackingUri/.test(e.message));
    } finally {
      if (saved !== undefined) process.env.MLFLOW_TRACKING_URI = saved;
    }
    await assert.rejects(experiment("x", { root: tempDir(), mlflow: { trackingUri: "sqlite:///x.db" } }), (e: unknown) => isLabnoteError(e) && /http/.test(e.message));
    await assert.rejects(experiment("x", { root: tempDir(), mlflow: { trackingUri: 5 } as never }), (e: unknown) => isLabnoteError(e) && /trackingUri must be/.test(e.message));
    await assert.rejects(experiment("x", { root: tempDir(), mlflow: { uri: "http://x" } as never }), (e: unknown) => isLabnoteError(e) && /unknown key "uri"/.test(e.message));
  });

  it("maps names MLflow refuses to keys it takes, leaving valid names alone", () => {
    assert.equal(mlflowKey("val/acc"), "val/acc");
    assert.equal(mlflowKey("größe"), "größe");
    assert.equal(mlflowKey('val/acc, top-1 "strict"'), "val/acc_ top-1 _strict_");
    assert.equal(mlflowKey("/abs//x/"), "_/abs/_/x/_");
    assert.equal(mlflowKey("../up"), "__/up");
    assert.equal(mlflowKey("x".repeat(300)).length, 250);
  });

  it("streams a run: MLflow's client finds every param, every point with its step, the tags, the artifacts and FINISHED", async () => {
    const root = tempDir();
    const exp = await mlflow.withTrackingUri(() =>
      experiment("streamed", {
        root,
        capture: { sources: false, dependencies: false },
        config: { lr: 0.01, optimizer: { name: "adam", betas: [0.9, 0.999] }, notes: "n".repeat(7000), "odd key, really": true },
        mlflow: true,
      }),
    );
    const run = await exp.start({ name: "baseline", tags: ["v1", "fast run"] });
    const N = 3000;
    for (let i = 0; i < N; i++) run.log("loss", Math.exp(-i / 1000) + i * 1e-9);
    const odd = [NaN, Infinity, -Infinity, -0, 1e-300, -123456.789];
    for (const v of odd) run.log('val/acc, top-1 "strict"', v);
    run.log("größe", 2.5, 2 ** 40);
    run.log({ "train/a": 1, "train/b": 2 }, 7);
    await run.save({ weights: [1, 2, 3] }, "model");
    await run.end();
    await delivered(run.dir!);

    const rec = run.record();
    const got = await oneRun("streamed", run.id, ["artifacts/model.json", "labnote/params/notes.txt"]);
    assert.equal(got.info.status, "FINISHED");
    assert.equal(got.info.run_name, "baseline");
    assert.equal(got.info.start_time, rec.startTime);
    assert.equal(got.info.end_time, rec.endTime);
    // Params: the flattened config; the long value as an artifact, a tag saying so.
    assert.equal(got.params.lr, "0.01");
    assert.equal(got.params["optimizer.name"], "adam");
    assert.equal(got.params["optimizer.betas"], "[0.9,0.999]");
    assert.equal(got.params["odd key_ really"], "true");
    assert.equal(got.params.notes, undefined);
    assert.match(got.tags["labnote.param.notes"], /artifact labnote\/params\/notes\.txt/);
    assert.equal(got.files["labnote/params/notes.txt"], "n".repeat(7000));
    assert.equal(got.tags["labnote.param_name.odd key_ really"], "odd key, really");
    // Tags.
    assert.equal(got.tags["mlflow.runName"], "baseline");
    assert.equal(got.tags["labnote.run_id"], run.id);
    assert.equal(got.tags["labnote.tags"], "v1, fast run");
    assert.equal(got.tags.v1, "");
    assert.equal(got.tags["labnote.status"], "completed");
    assert.equal(got.tags["mlflow.user"], run.env.host!.user);
    if (run.env.git?.commit) assert.equal(got.tags["mlflow.source.git.commit"], run.env.git.commit);
    if (run.env.git?.branch) assert.equal(got.tags["mlflow.source.git.branch"], run.env.git.branch);
    assert.equal(got.tags['labnote.metric_name.val/acc_ top-1 _strict_'], 'val/acc, top-1 "strict"');
    // Every point, with its step and millisecond time.
    const loss = got.metrics.loss;
    const mine = run.metric("loss");
    assert.deepEqual(loss.steps, mine.steps);
    assert.deepEqual([...doubles(loss.values)], mine.values);
    assert.deepEqual(loss.timestamps, mine.times.map(Math.round));
    const oddGot = [...doubles(got.metrics["val/acc_ top-1 _strict_"].values)];
    // MLflow's SQL store keeps NaN, holds ±Infinity as ±max double, and -0 as 0.
    assert.deepEqual(oddGot, [NaN, Number.MAX_VALUE, -Number.MAX_VALUE, 0, 1e-300, -123456.789]);
    assert.deepEqual(got.metrics["val/acc_ top-1 _strict_"].steps, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(got.metrics["größe"].steps, [2 ** 40]);
    assert.deepEqual(got.metrics["train/b"].steps, [7]);
    // Artifacts through the proxy.
    assert.ok(got.artifacts.includes("artifacts/model.json"), got.artifacts.join(", "));
    assert.deepEqual(JSON.parse(got.files["artifacts/model.json"]), { weights: [1, 2, 3] });
    assert.ok(!fs.existsSync(path.join(run.dir!, "mlflow.lock")));
  });

  it("ends a failed run FAILED with its error, an interrupted one KILLED", async () => {
    const root = tempDir();
    const exp = await experiment("endings", { root, capture: false, mlflow: { trackingUri: mlflow.uri } });
    const failed = await exp.start({ name: "fails" });
    failed.log("loss", 1);
    await failed.fail(new Error("diverged at step 1"));
    const stopped = await exp.start({ name: "stopped" });
    stopped.log("loss", 2);
    await stopped.end({ status: "interrupted" });
    await delivered(failed.dir!);
    await delivered(stopped.dir!);
    const f = await oneRun("endings", failed.id);
    assert.equal(f.info.status, "FAILED");
    assert.equal(f.tags["labnote.status"], "failed");
    assert.match(f.tags["labnote.error"], /diverged at step 1/);
    const s = await oneRun("endings", stopped.id);
    assert.equal(s.info.status, "KILLED");
    assert.equal(s.tags["labnote.status"], "interrupted");
  });

  it("keeps going while the server is stopped and started again: afterwards MLflow has every point once, FINISHED, after one warning each way", async () => {
    const root = tempDir();
    const w = captureWarnings();
    try {
      const exp = await experiment("restart", { root, capture: false, mlflow: { trackingUri: mlflow.uri } });
      const run = await exp.start({ name: "through an outage" });
      for (let i = 0; i < 1500; i++) run.log("loss", i);
      run.flush();
      // Some of it reaches the server, then the server goes.
      const t0 = Date.now();
      while (Object.values(readOutbox(run.dir!)?.metrics ?? {}).reduce((a, n) => a + n, 0) === 0 && Date.now() - t0 < DELIVERY_MS) await sleep(100);
      await mlflow.server.stop();
      const tLog = Date.now();
      for (let i = 1500; i < 20_000; i++) run.log("loss", i);
      run.log("acc", 0.75);
      const logMs = Date.now() - tLog;
      await sleep(1500); // the sink tries, fails, backs off
      const tEnd = Date.now();
      await run.end();
      const endMs = Date.now() - tEnd;
      assert.ok(endMs < 3000, `run.end() took ${endMs} ms with the server down`);
      assert.ok(logMs < 5000, `logging 18,500 points took ${logMs} ms with the server down`);
      assert.equal(readOutbox(run.dir!)?.done, false);
      assert.equal(w.seen.filter((m) => /cannot be reached/.test(m)).length, 1, w.seen.join("\n"));
      await mlflow.server.start();
      await delivered(run.dir!);
      assert.equal(w.seen.filter((m) => /cannot be reached/.test(m)).length, 1, w.seen.join("\n"));
      assert.equal(w.seen.filter((m) => /answers again/.test(m)).length, 1, w.seen.join("\n"));
      const got = await oneRun("restart", run.id);
      assert.equal(got.info.status, "FINISHED");
      const steps = got.metrics.loss.steps;
      assert.equal(steps.length, 20_000);
      for (let i = 0; i < steps.length; i++) if (steps[i] !== i) assert.fail(`step ${i} is ${steps[i]}`);
      assert.deepEqual(got.metrics.acc.steps, [0]);
    } finally {
      w.restore();
      await mlflow.ensureRunning();
    }
  });

  it("a process killed with the server down leaves its outbox; labnote sync completes the run as KILLED with all its points", async () => {
    const root = tempDir();
    await mlflow.server.stop();
    const N = 2500;
    const child = spawn(process.execPath, ["--import", "tsx", DOOMED, root, mlflow.uri, String(N)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("logged\n")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    assert.match(err, /cannot be reached/);
    const dir = path.join(root, "doomed", "1");
    const box = readOutbox(dir);
    assert.equal(box?.done, false);
    assert.equal(box?.runId, undefined);

    await mlflow.server.start();
    const sync = spawnSync(process.execPath, ["--import", "tsx", MAIN, "sync", "--root", root], { encoding: "utf8", timeout: DELIVERY_MS });
    assert.equal(sync.status, 0, `${sync.stdout}\n${sync.stderr}`);
    assert.match(sync.stdout, /doomed\/1: in MLflow as run \w+ of experiment "doomed" \(KILLED\), 2,501 points/);
    const got = await oneRun("doomed", "doomed/1");
    assert.equal(got.info.status, "KILLED");
    const rec = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as { heartbeat: number };
    assert.equal(got.info.end_time, rec.heartbeat);
    assert.deepEqual(got.metrics.loss.steps, Array.from({ length: N }, (_, i) => i));
    assert.deepEqual([...doubles(got.metrics.loss.values)], Array.from({ length: N }, (_, i) => 1 / (i + 1)));
    assert.equal(got.params.lr, "0.5");
    assert.equal(got.params.layers, "[64,32]");
    assert.equal(got.tags["labnote.status"], "died");
    assert.equal(readOutbox(dir)?.done, true);
    // Once delivered, there is nothing more to send.
    const again = spawnSync(process.execPath, ["--import", "tsx", MAIN, "sync", "--root", root], { encoding: "utf8" });
    assert.equal(again.status, 0);
    assert.match(again.stdout, /Nothing to send/);
  });

  it("the next run of the experiment delivers a run that a killed process left", async () => {
    const root = tempDir();
    await mlflow.server.stop();
    const child = spawn(process.execPath, ["--import", "tsx", DOOMED, root, mlflow.uri, "300", "doomed-next"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    await new Promise<void>((resolve) => child.stdout.on("data", (d) => (out += d).includes("logged\n") && resolve()));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    await mlflow.server.start();
    const exp = await experiment("doomed-next", { root, capture: false, mlflow: { trackingUri: mlflow.uri } });
    const run = await exp.start({ name: "next" });
    run.log("loss", 1);
    await run.end();
    await delivered(path.join(root, "doomed-next", "1"));
    await delivered(run.dir!);
    const got = await oneRun("doomed-next", "doomed-next/1");
    assert.equal(got.info.status, "KILLED");
    assert.equal(got.metrics.loss.steps.length, 300);
  });
});
