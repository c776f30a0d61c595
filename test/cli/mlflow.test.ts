/**
 * `labnote export --to mlflow` and `labnote import --from mlflow` against a real `mlflow server`
 * (SQLite backend, served artifacts), read back with MLflow's own Python client and with the
 * store's own readers: a past run sent whole; an earlier, partial copy completed without a
 * point sent twice; an MLflow experiment (written by MLflow's Python client) brought into the
 * store, again without duplicates; labnote's own exported runs skipped; the errors.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, whenWritten } from "../../src";
import { readHistory, runDir } from "../../src/history/read";
import { SWEEPS_DIR } from "../../src/protocol";
import { pointsOf, tempDir } from "../core/tmp";
import { venvPython } from "../helpers/env";
import { doubles, readMlflow, useMlflowServer, type SearchedRun } from "../helpers/mlflow";

const MAIN = path.resolve(__dirname, "../../src/cli/main.ts");
/** The server shares two cores with everything else. */
const CLI_MS = 300_000;

const mlflow = useMlflowServer({ after: whenWritten });
const { oneRun, rest } = mlflow;

function labnote(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8", maxBuffer: 1 << 28, timeout: CLI_MS, env: { ...process.env, MLFLOW_TRACKING_URI: "", ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Runs MLflow's own Python client on the server: `code` sees `c` (an MlflowClient), `Metric`,
 * `Param`, and `out`, whose value comes back (MLflow prints lines of its own on stdout).
 */
function python(code: string): unknown {
  const script = `import sys, json\nfrom mlflow.tracking import MlflowClient\nfrom mlflow.entities import Metric, Param, RunTag\nc = MlflowClient(tracking_uri=sys.argv[1])\nout = None\n${code}\nprint("\\nRESULT " + json.dumps(out))`;
  const text = execFileSync(venvPython(), ["-c", script, mlflow.uri], { encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, MLFLOW_TRACKING_URI: mlflow.uri } });
  const line = text.split("\n").find((l) => l.startsWith("RESULT "));
  return JSON.parse(line!.slice("RESULT ".length));
}

describe("labnote export --to mlflow and labnote import --from mlflow", () => {
  it("refuses --to mlflow without a server, naming --tracking-uri and MLFLOW_TRACKING_URI (exit 2); a server that does not answer is exit 1", async () => {
    const root = tempDir();
    const exp = await experiment("nouri", { root, capture: false });
    await exp.run(async (run) => run.log("loss", 1));
    const r = labnote(["export", "nouri/1", "--to", "mlflow", "--root", root]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--tracking-uri URL or MLFLOW_TRACKING_URI/);
    const wrong = labnote(["export", "nouri/1", "--to", "csv", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /--tracking-uri goes with --to mlflow/);
    const down = labnote(["export", "nouri/1", "--to", "mlflow", "--tracking-uri", "http://127.0.0.1:9", "--root", root]);
    assert.equal(down.code, 1, down.err);
    assert.match(down.err, /MLflow server at http:\/\/127\.0\.0\.1:9 cannot be reached/);
    const imp = labnote(["import", "--from", "mlflow", "x", "--root", root]);
    assert.equal(imp.code, 2);
    assert.match(imp.err, /--tracking-uri URL or MLFLOW_TRACKING_URI/);
    assert.equal(labnote(["import", "x", "--root", root]).code, 2);
  });

  it("exports a past run: MLflow's client finds every param, every point with its step and time, the tags, the artifact, FINISHED and the end time; a failed one FAILED", async () => {
    const root = tempDir();
    const exp = await experiment("past", { root, capture: { sources: false, dependencies: false }, config: { lr: 0.01, optimizer: { name: "adam" }, "odd key, really": true } });
    const run = await exp.start({ name: "baseline", tags: ["v1"] });
    for (let i = 0; i < 2500; i++) run.log("loss", 1 / (i + 1));
    run.log('val/acc, top-1 "strict"', NaN, 4);
    await run.save({ weights: [1, 2] }, "model");
    await run.end();
    const failed = await exp.start({ name: "diverged" });
    failed.log("loss", 5);
    await failed.fail(new Error("diverged"));
    await whenWritten();

    const r = labnote(["export", "past", "--to", "mlflow", "--root", root], { MLFLOW_TRACKING_URI: mlflow.uri });
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    assert.match(r.out, /past\/1: new run \w+ of MLflow experiment "past" \(FINISHED\), 2,501 points sent/);
    assert.match(r.out, /past\/2: new run \w+ of MLflow experiment "past" \(FAILED\), 1 point sent/);
    assert.equal(r.err, "", "no progress bar or warning when stderr is not a terminal");

    const rec = run.record();
    const got = await oneRun("past", "past/1", ["artifacts/model.json"]);
    assert.equal(got.info.status, "FINISHED");
    assert.equal(got.info.run_name, "baseline");
    assert.equal(got.info.start_time, rec.startTime);
    assert.equal(got.info.end_time, rec.endTime);
    assert.deepEqual(got.params, { lr: "0.01", "optimizer.name": "adam", "odd key_ really": "true" });
    assert.equal(got.tags["labnote.param_name.odd key_ really"], "odd key, really");
    assert.equal(got.tags["labnote.tags"], "v1");
    assert.equal(got.tags["labnote.status"], "completed");
    const mine = run.metric("loss");
    assert.deepEqual(got.metrics.loss.steps, mine.steps);
    assert.deepEqual([...doubles(got.metrics.loss.values)], mine.values);
    assert.deepEqual(got.metrics.loss.timestamps, mine.times.map(Math.round));
    assert.deepEqual(got.metrics["val/acc_ top-1 _strict_"].steps, [4]);
    assert.deepEqual(JSON.parse(got.files["artifacts/model.json"]), { weights: [1, 2] });
    const f = await oneRun("past", "past/2");
    assert.equal(f.info.status, "FAILED");
    assert.match(f.tags["labnote.error"], /diverged/);
  });

  it("exporting again completes an earlier, partial copy (found by its run-id tag and start time) without sending a point twice, and then sends nothing", async () => {
    const root = tempDir();
    const exp = await experiment("again", { root, capture: false, config: { lr: 0.5 } });
    const run = await exp.start({ name: "long" });
    const N = 3000;
    for (let i = 0; i < N; i++) run.log("loss", i / N);
    for (let i = 0; i < 10; i++) run.log("acc", i / 10);
    await run.save("weights", "model");
    await run.end();
    await whenWritten();
    const rec = run.record();
    const loss = run.metric("loss");
    // An earlier copy that got 1,234 points of loss, no acc, no artifact, and never ended; and
    // another store's run with the same id but another start time, which must be left alone.
    const { experiment_id } = await rest<{ experiment_id: string }>("experiments/create", { name: "again" });
    const other = await rest<{ run: { info: { run_id: string } } }>("runs/create", { experiment_id, start_time: rec.startTime - 60_000, tags: [{ key: "labnote.run_id", value: rec.id }] });
    const partial = await rest<{ run: { info: { run_id: string } } }>("runs/create", { experiment_id, start_time: rec.startTime, run_name: "long", tags: [{ key: "labnote.run_id", value: rec.id }] });
    const K = 1234;
    await rest("runs/log-batch", { run_id: partial.run.info.run_id, params: [{ key: "lr", value: "0.5" }] });
    for (let s = 0; s < K; s += 1000) {
      const metrics = [];
      for (let i = s; i < Math.min(K, s + 1000); i++) metrics.push({ key: "loss", value: loss.values[i], timestamp: Math.round(loss.times[i]), step: loss.steps[i] });
      await rest("runs/log-batch", { run_id: partial.run.info.run_id, metrics });
    }

    const r = labnote(["export", "again/1", "--to", "mlflow", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    assert.match(r.out, new RegExp(`again/1: earlier run ${partial.run.info.run_id} of MLflow experiment "again" \\(FINISHED\\), ${(N - K + 10).toLocaleString("en-US")} points sent`));
    const artifact = rec.artifacts[0].file;
    const read = await readMlflow(mlflow.uri, "again", rec.id, [artifact]);
    assert.equal(read.runs.length, 2);
    const got = read.runs.find((x) => x.info.run_id === partial.run.info.run_id)!;
    assert.equal(got.info.status, "FINISHED");
    assert.equal(got.info.end_time, rec.endTime);
    assert.deepEqual(got.metrics.loss.steps, loss.steps, "every point of loss once");
    assert.deepEqual([...doubles(got.metrics.loss.values)], loss.values);
    assert.equal(got.metrics.acc.steps.length, 10);
    assert.equal(got.files[artifact], fs.readFileSync(path.join(run.dir!, artifact), "utf8"));
    const untouched = read.runs.find((x) => x.info.run_id === other.run.info.run_id)!;
    assert.deepEqual(untouched.metrics, {});
    assert.equal(untouched.info.status, "RUNNING");

    const again = labnote(["export", "again/1", "--to", "mlflow", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /again\/1: earlier run \w+ .*\(FINISHED\), 0 points sent, it had every point already/);
    const after2 = read.runs.length === 2 ? await readMlflow(mlflow.uri, "again", rec.id) : read;
    assert.equal(after2.runs.length, 2);
    assert.equal(after2.runs.find((x) => x.info.run_id === partial.run.info.run_id)!.metrics.loss.steps.length, N);
    assert.ok(!fs.existsSync(path.join(run.dir!, "mlflow.json")), "export writes no outbox into the store");
  });

  it("imports an MLflow experiment written by MLflow's Python client: config from params, every point (paged), tags, statuses, times; importing again adds only new runs", async () => {
    const N = 30_000; // more than one page of metrics/get-history
    const made = python(`
exp = c.create_experiment("team-vision")
out = []
def make(name, status, params, n, tags):
    r = c.create_run(exp, start_time=1_700_000_000_000 + len(out) * 1000, tags=tags, run_name=name)
    rid = r.info.run_id
    c.log_batch(rid, params=[Param(k, v) for k, v in params.items()])
    for s in range(0, n, 1000):
        c.log_batch(rid, metrics=[Metric("loss", 1.0 / (i + 1), 1_700_000_100_000 + i, i) for i in range(s, min(n, s + 1000))])
    c.log_batch(rid, metrics=[Metric("val/acc", float("nan"), 1_700_000_200_000, 0), Metric("val/acc", float("inf"), 1_700_000_200_001, 1)])
    if status != "RUNNING":
        c.set_terminated(rid, status=status, end_time=1_700_000_300_000 + len(out))
    out.append(rid)
make("resnet", "FINISHED", {"lr": "0.01", "model.depth": "50", "model.name": "resnet", "augment": "True", "layers": "[64, 32]"}, ${N}, {"team": "vision", "mlflow.user": "alice", "wip": ""})
make("broken", "FAILED", {"lr": "1.0"}, 3, {})
make("stopped", "KILLED", {"lr": "0.1"}, 3, {})
make("live", "RUNNING", {"lr": "0.2"}, 3, {})
`) as string[];
    const root = tempDir();
    const r = labnote(["import", "--from", "mlflow", "team-vision", "--into", "vision", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    assert.match(r.out, /Imported 4 of 4 runs into vision/);
    assert.match(r.out, new RegExp(`MLflow run ${made[0]} "resnet" → vision/1 \\(30,002 points\\)`));
    const recs = readHistory(root, "vision");
    assert.deepEqual(recs.map((x) => [x.name, x.status]), [["resnet", "completed"], ["broken", "failed"], ["stopped", "interrupted"], ["live", "died"]]);
    // The RUNNING one is recorded as running (no process to watch: readers show it died once its last point is old).
    assert.equal(JSON.parse(fs.readFileSync(path.join(runDir(root, "vision", 4), "run.json"), "utf8")).status, "running");
    const a = recs[0];
    assert.deepEqual(a.config, { lr: 0.01, model: { depth: 50, name: "resnet" }, augment: "True", layers: [64, 32] });
    assert.deepEqual(a.tags, ["team:vision", "wip"]);
    assert.equal(a.startTime, 1_700_000_000_000);
    assert.equal(a.endTime, 1_700_000_300_000);
    const origin = (a.metadata as { mlflow: { runId: string; trackingUri: string; tags: Record<string, string> } }).mlflow;
    assert.equal(origin.runId, made[0]);
    assert.equal(origin.trackingUri, mlflow.uri);
    assert.equal(origin.tags["mlflow.user"], "alice");
    const points = pointsOf(runDir(root, "vision", 1));
    const loss = points.get("loss")!;
    assert.equal(loss.steps.length, N);
    for (let i = 0; i < N; i++) if (loss.steps[i] !== i || loss.values[i] !== 1 / (i + 1) || loss.times[i] !== 1_700_000_100_000 + i) assert.fail(`point ${i}: ${loss.steps[i]} ${loss.values[i]} ${loss.times[i]}`);
    assert.deepEqual(points.get("val/acc")!.values, [NaN, Infinity]);
    assert.equal(a.metrics.loss.count, N);
    assert.ok(fs.existsSync(path.join(runDir(root, "vision", 1), "metrics.csv")), "the writer's metrics.csv");
    // What the command line shows of it.
    const show = labnote(["show", "vision/1", "--root", root]);
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /resnet/);

    const again = labnote(["import", "--from", "mlflow", "team-vision", "--into", "vision", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /Imported 0 of 4 runs into vision .*\(4 skipped\)/);
    assert.match(again.out, /skipped, imported before as vision\/1/);
    python(`
exp = c.get_experiment_by_name("team-vision").experiment_id
r = c.create_run(exp, run_name="newer")
c.log_metric(r.info.run_id, "loss", 0.5, step=1)
c.set_terminated(r.info.run_id)
`);
    const third = labnote(["import", "--from", "mlflow", "team-vision", "--into", "vision", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(third.code, 0, third.err);
    assert.match(third.out, /"newer" → vision\/5 \(1 points\)/);
    assert.equal(readHistory(root, "vision").length, 5);
  });

  it("round trip: a run labnote exported is skipped by an import into its own store, and comes back equal into another store", async () => {
    const root = tempDir();
    const exp = await experiment("trip", { root, capture: false, config: { lr: 0.25, model: { layers: [8, 4], act: "relu" }, "odd key, really": "yes" } });
    const run = await exp.start({ name: "there and back", tags: ["t1", "t2"] });
    for (let i = 0; i < 500; i++) run.log("loss", Math.exp(-i / 100));
    run.log('top-1, "strict"', 0.75, 3);
    await run.end();
    await whenWritten();
    assert.equal(labnote(["export", "trip/1", "--to", "mlflow", "--tracking-uri", mlflow.uri, "--root", root]).code, 0);
    const own = labnote(["import", "--from", "mlflow", "trip", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(own.code, 0, own.err);
    assert.match(own.out, /skipped, it is labnote's own run trip\/1, exported to MLflow, and still in this store/);
    assert.equal(readHistory(root, "trip").length, 1);

    const elsewhere = tempDir();
    const back = labnote(["import", "--from", "mlflow", "trip", "--tracking-uri", mlflow.uri, "--root", elsewhere]);
    assert.equal(back.code, 0, back.err);
    const [copy] = readHistory(elsewhere, "trip");
    const rec = run.record();
    assert.deepEqual(copy.config, rec.config);
    assert.deepEqual(copy.tags, rec.tags);
    assert.equal(copy.name, rec.name);
    assert.equal(copy.status, "completed");
    assert.equal(copy.startTime, rec.startTime);
    assert.equal(copy.endTime, rec.endTime);
    assert.equal(copy.seed, rec.seed);
    const pts = pointsOf(runDir(elsewhere, "trip", 1));
    assert.deepEqual([...pts.keys()].sort(), ["loss", 'top-1, "strict"']);
    assert.deepEqual(pts.get("loss")!.values, run.metric("loss").values);
    assert.deepEqual(pts.get("loss")!.times, run.metric("loss").times.map(Math.round));
  });

  it("exports an experiment with a sweep as a parent run with its trials nested under it; again, and after streaming live, it finds them and duplicates nothing", async () => {
    const root = tempDir();
    const exp = await experiment("swept", { root, capture: false, config: { x: 0, depth: 1 } });
    const s = await exp.sweep(
      { x: [1, 2, 3] },
      async (run) => {
        if (run.config.x === 2) throw new Error("diverged");
        run.log("val", 10 - (run.config.x as number));
      },
      { metric: "val", goal: "min", name: "xs" },
    );
    const plain = await exp.start({ name: "plain" });
    plain.log("val", 1);
    await plain.end();
    await whenWritten();
    const family = async (experimentName: string): Promise<{ parents: SearchedRun[]; children: SearchedRun[]; all: SearchedRun[] }> => {
      const all = await mlflow.search(experimentName, "");
      return { ...(await mlflow.sweepFamily(experimentName, `${experimentName}/sweep-1`)), all };
    };
    const r = labnote(["export", "swept", "--to", "mlflow", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^swept\/sweep-1: new run (\w+) of MLflow experiment "swept" \(FINISHED\)/m);
    const f = await family("swept");
    assert.equal(f.parents.length, 1);
    assert.equal(f.all.length, 5);
    const [parent] = f.parents;
    assert.equal(parent.info.run_name, "xs");
    assert.equal(parent.params.x, "[1,2,3]");
    assert.equal(parent.params["sweep.strategy"], "grid");
    assert.equal(parent.params["sweep.seed"], String(s.seed));
    assert.equal(parent.metrics.best_val, 7);
    assert.equal(parent.metrics.trials_done, 3);
    assert.equal(parent.tags["labnote.sweep_id"], "swept/sweep-1");
    assert.deepEqual(
      f.children.map((c) => [c.tags["labnote.run_id"], c.info.status, c.params.x]),
      [
        ["swept/1", "FINISHED", "1"],
        ["swept/2", "FAILED", "2"],
        ["swept/3", "FINISHED", "3"],
      ],
    );
    const loner = f.all.find((x) => x.tags["labnote.run_id"] === "swept/4");
    assert.equal(loner?.tags["mlflow.parentRunId"], undefined);
    // Again: the same parent and children, nothing new.
    const again = labnote(["export", "swept", "--to", "mlflow", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, new RegExp(`^swept/sweep-1: earlier run ${parent.info.run_id} .*it had every point already`, "m"));
    const f2 = await family("swept");
    assert.equal(f2.all.length, 5);
    assert.deepEqual(
      f2.children.map((c) => c.info.run_id),
      f.children.map((c) => c.info.run_id),
    );
    // Imported into another store: the parent is no run of its own; the trials are.
    const elsewhere = tempDir();
    const imp = labnote(["import", "--from", "mlflow", "swept", "--tracking-uri", mlflow.uri, "--root", elsewhere]);
    assert.equal(imp.code, 0, imp.err);
    assert.match(imp.out, new RegExp(`MLflow run ${parent.info.run_id} "xs": skipped, it is the parent run of labnote's sweep swept/sweep-1`));
    assert.equal(readHistory(elsewhere, "swept").length, 4);
    // One trial alone: it finds its parent too.
    const one = labnote(["export", "swept/3", "--to", "mlflow", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(one.code, 0, one.err);
    assert.equal((await family("swept")).all.length, 5);

    // A sweep streamed live, then exported: the export finds the parent the sink made.
    const live = await experiment("swept-live", { root, capture: false, mlflow: { trackingUri: mlflow.uri } });
    const ls = await live.sweep({ y: [1, 2] }, async (run) => run.log("val", run.config.y as number), { metric: "val" });
    await mlflow.delivered(path.join(root, "swept-live", SWEEPS_DIR), { file: "1.mlflow.json" });
    for (const t of ls.runs) await mlflow.delivered(path.join(root, "swept-live", String(t.number)));
    const before = await family("swept-live");
    assert.equal(before.parents.length, 1);
    assert.equal(before.children.length, 2);
    const ex = labnote(["export", "swept-live", "--to", "mlflow", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(ex.code, 0, ex.err);
    assert.match(ex.out, new RegExp(`^swept-live/sweep-1: earlier run ${before.parents[0].info.run_id} `, "m"));
    const after = await family("swept-live");
    assert.equal(after.all.length, 3);
    assert.equal(after.children.length, 2);
  });

  it("an unknown MLflow experiment: did-you-mean with the server's experiments, exit 2; --help", async () => {
    await rest("experiments/create", { name: "cifar-sweep" });
    const root = tempDir();
    const r = labnote(["import", "--from", "mlflow", "cifar-swep", "--tracking-uri", mlflow.uri, "--root", root]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /No experiment "cifar-swep" on the MLflow server at http:\/\/127\.0\.0\.1:\d+: did you mean "cifar-sweep"\?/);
    assert.ok(!fs.existsSync(path.join(root, "cifar-swep")));
    const bad = labnote(["import", "--from", "wandb", "x", "--root", root]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--from must be mlflow/);
    const help = labnote(["import", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /labnote import --from mlflow <experiment>/);
    assert.match(labnote(["--help"]).out, /import\s+bring an MLflow experiment's runs into the store/);
  });
});
