/**
 * The MLflow sink and credentials, against a real `mlflow server`: MLflow's own variables (a
 * token, a user and password, a URI's user:password@) are never written — not in the store,
 * output.log, the outbox, a warning, a message, nor a printed or serialized sink.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { experiment } from "../../src";
import { MlflowSink } from "../../src/sinks/mlflow/sink";
import { captureWarnings, useMlflowServer } from "../helpers/mlflow";
import { tempDir } from "../core/tmp";

const mlflow = useMlflowServer();
const { oneRun } = mlflow;
const delivered = (dir: string) => mlflow.delivered(dir);

/** Every file under `dir`, recursively. */
function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

describe("the MLflow sink and credentials", () => {
  it("never writes a credential: not in the store, output.log, the outbox, a warning or a message", async () => {
    const root = tempDir();
    const secrets = { MLFLOW_TRACKING_TOKEN: "tok-S3CRET-4f9a", MLFLOW_TRACKING_USERNAME: "alice-S3CRET", MLFLOW_TRACKING_PASSWORD: "pw-S3CRET-77" };
    const saved = { ...process.env };
    const w = captureWarnings();
    try {
      Object.assign(process.env, secrets);
      const withUser = mlflow.uri.replace("http://", "http://bob-S3CRET:uripw-S3CRET@");
      const exp = await experiment("secret", { root, capture: { sources: false, dependencies: false }, mlflow: { trackingUri: withUser } });
      const run = await exp.start({ name: "signed in" });
      run.log("loss", 1);
      console.log("a line of output");
      await run.end();
      await delivered(run.dir!);
      // A server that does not answer: the warning names it without credentials.
      await mlflow.server.stop();
      const run2 = await exp.start({ name: "server down" });
      run2.log("loss", 2);
      await sleep(1500);
      await run2.end();
      await mlflow.server.start();
      await delivered(run2.dir!);
      const got = await oneRun("secret", run.id);
      assert.equal(got.info.status, "FINISHED");
    } finally {
      w.restore();
      for (const k of Object.keys(secrets)) if (saved[k] === undefined) delete process.env[k];
      await mlflow.ensureRunning();
    }
    assert.ok(w.seen.some((m) => /cannot be reached/.test(m)), w.seen.join("\n"));
    const needles = ["S3CRET", Buffer.from("alice-S3CRET:pw-S3CRET-77").toString("base64"), Buffer.from("bob-S3CRET:uripw-S3CRET").toString("base64")];
    for (const m of w.seen) for (const n of needles) assert.ok(!m.includes(n), `a warning holds a credential: ${m}`);
    const sink = new MlflowSink({ trackingUri: mlflow.uri.replace("http://", "http://bob-S3CRET:uripw-S3CRET@") }, secrets);
    for (const shown of [JSON.stringify(sink), inspect(sink, { depth: 5 })]) for (const n of needles) assert.ok(!shown.includes(n), `the sink shows a credential: ${shown}`);
    for (const file of allFiles(root)) {
      const text = fs.readFileSync(file).toString("latin1");
      for (const n of needles) assert.ok(!text.includes(n), `${file} holds a credential`);
    }
  });
});
