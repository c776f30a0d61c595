/**
 * The MLflow sink and a server that answers slowly: a small HTTP proxy in front of a real
 * `mlflow server` holds every answer 2 s. Logging never waits for it (200,000 points are logged
 * before the first answer could come; the same loop with no sink is printed beside), and
 * everything arrives, once. With the server answering at its own speed, a
 * point logged reaches it within about a second (polled with metrics/get-history).
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { experiment, type Experiment } from "../../src";
import { readOutbox } from "../../src/sinks/mlflow/outbox";
import { MlflowSink } from "../../src/sinks/mlflow/sink";
import { doubles, readMlflow, useMlflowServer } from "../helpers/mlflow";
import { tempDir } from "../core/tmp";

const DELAY_MS = 2000;

/** A proxy to `target` that holds every answer `delay` ms. */
async function slowProxy(target: string, delay: number): Promise<{ uri: string; requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      state.requests++;
      try {
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v;
        const r = await fetch(target + req.url, { method: req.method, headers, body: req.method === "GET" || req.method === "HEAD" ? undefined : body });
        const data = Buffer.from(await r.arrayBuffer());
        await sleep(delay);
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
        res.end(data);
      } catch (e) {
        res.writeHead(502);
        res.end(String(e));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    uri,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Log `n` points as a training loop does (yielding now and then); the loop's time in ms. */
async function loop(exp: Experiment, n: number): Promise<number> {
  const run = await exp.start({ name: "timed" });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    run.log("loss", 1 / (i + 1));
    if (i % 10_000 === 9_999) await new Promise((r) => setImmediate(r));
  }
  const ms = performance.now() - t0;
  await run.end();
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe("the MLflow sink and a slow server", () => {
  let proxy: Awaited<ReturnType<typeof slowProxy>>;
  const mlflow = useMlflowServer({ after: async () => void (await proxy?.close()) });
  before(async () => {
    proxy = await slowProxy(mlflow.uri, DELAY_MS);
  });

  it("a server that holds every answer 2 s never slows run.log, and everything arrives once", async (t) => {
    const root = tempDir();
    const plain = await experiment("plain", { root, capture: false });
    const N = 200_000;
    await loop(plain, 20_000); // warm-up
    const without: number[] = [];
    const withSlow: number[] = [];
    for (let round = 0; round < 3; round++) {
      const sink = new MlflowSink({ trackingUri: proxy.uri, endWaitMs: 0 });
      const slow = await experiment("slow-timed", { root, capture: false, sinks: [sink] });
      // Alternating order, so that a machine getting busier favours neither side.
      if (round % 2 === 0) {
        without.push(await loop(plain, N));
        withSlow.push(await loop(slow, N));
      } else {
        withSlow.push(await loop(slow, N));
        without.push(await loop(plain, N));
      }
      sink.stop(); // 200 batches at 2 s each: these runs are not waited for
    }
    // Behaviour, not speed (bench/core/mlflow.ts measures that): every loop through the slow
    // sink ended before the server could have answered even its first request.
    t.diagnostic(`logging ${N} points: ${withSlow.map((x) => x.toFixed(0)).join(", ")} ms with the slow server, ${without.map((x) => x.toFixed(0)).join(", ")} ms without a sink (median ratio ${(median(withSlow) / median(without)).toFixed(2)}×)`);
    for (const ms of withSlow) assert.ok(ms < DELAY_MS, `logging ${N} points with a server that holds each answer ${DELAY_MS} ms took ${ms.toFixed(0)} ms: run.log waited for the server`);

    // A run small enough to deliver through the slow proxy: every point arrives, once, in order.
    const exp = await experiment("slow", { root, capture: false, config: { lr: 0.1 }, mlflow: { trackingUri: proxy.uri, endWaitMs: 0 } });
    const run = await exp.start({ name: "through a slow server" });
    const M = 3500;
    const t0 = performance.now();
    for (let i = 0; i < M; i++) {
      run.log("loss", i / M);
      if (i % 500 === 499) await sleep(100);
    }
    const tEnd = performance.now();
    await run.end();
    assert.ok(performance.now() - tEnd < 1500, `run.end() with endWaitMs 0 took ${(performance.now() - tEnd).toFixed(0)} ms`);
    assert.ok(tEnd - t0 < 5000, `the loop took ${(tEnd - t0).toFixed(0)} ms`);
    const deadline = Date.now() + 300_000;
    while (!readOutbox(run.dir!)?.done) {
      if (Date.now() > deadline) assert.fail(`not delivered through the slow server: ${JSON.stringify(readOutbox(run.dir!))}`);
      await sleep(250);
    }
    const read = await readMlflow(mlflow.uri, "slow", run.id);
    assert.equal(read.runs.length, 1);
    const got = read.runs[0];
    assert.equal(got.info.status, "FINISHED");
    assert.equal(got.params.lr, "0.1");
    assert.deepEqual(got.metrics.loss.steps, Array.from({ length: M }, (_, i) => i));
    assert.deepEqual([...doubles(got.metrics.loss.values)], run.metric("loss").values);
  });

  it("with the server answering at its own speed, a point logged reaches it within about a second", async (t) => {
    const root = tempDir();
    const exp = await experiment("prompt", { root, capture: false, mlflow: { trackingUri: mlflow.uri } });
    const run = await exp.start({ name: "watched", span: true });
    run.log("warmup", 1);
    // Wait until the run is on the server, with its first point.
    for (const deadline = Date.now() + 120_000; Object.keys(readOutbox(run.dir!)?.metrics ?? {}).length === 0; ) {
      if (Date.now() > deadline) assert.fail("the run never reached the server");
      await sleep(50);
    }
    const runId = readOutbox(run.dir!)!.runId!;
    const lags: number[] = [];
    for (let probe = 0; probe < 5; probe++) {
      const t0 = Date.now();
      run.log("probe", probe, probe);
      for (;;) {
        const r = await fetch(`${mlflow.uri}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=probe`);
        const j = (await r.json()) as { metrics?: { step: string | number }[] };
        if ((j.metrics ?? []).some((m) => Number(m.step) === probe)) break;
        if (Date.now() - t0 > 30_000) assert.fail(`probe ${probe} not on the server after 30 s`);
        await sleep(25);
      }
      lags.push(Date.now() - t0);
      await sleep(300);
    }
    await run.end();
    t.diagnostic(`a point logged was on the server after ${lags.join(", ")} ms`);
    assert.ok(median(lags) <= 2000, `a point reached the server after ${lags.join(", ")} ms (median ${median(lags)} ms)`);
  });
});
