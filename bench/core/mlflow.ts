/**
 * The MLflow sink's cost and delivery, side by side in one run against a real `mlflow server`
 * (SQLite backend) from the project's .venv:
 *  - logging 1,000,000 points (yielding to the event loop every 65,536, as a training loop that
 *    awaits now and then does) with the sink on, server up and server down, against the same loop
 *    without the sink; run.end() included (it does not wait for delivery: endWaitMs 0); the order
 *    of the three alternates between rounds, and each round's ratios are printed with the median;
 *  - points per second delivered into the server, against MLflow's own Python client calling
 *    log_batch with 1,000 metrics at a time into the same server.
 *
 *   node --import tsx bench/core/mlflow.ts [--rounds 3] [--points 1000000] [--deliver 20000]
 */
import { execFileSync } from "node:child_process";
import { experiment, type Experiment } from "../../src";
import { MlflowSink } from "../../src/sinks/mlflow/sink";
import { readOutbox } from "../../src/sinks/mlflow/outbox";
import { freePort, MlflowServer } from "../../test/helpers/mlflow";
import { venvPython } from "../../test/helpers/env";
import { arg, fmtRate, machineNote, median, msSince, report, runMain, tempRoot, verdict, yieldToLoop, type Row } from "./common";

const YIELD_EVERY = 65_536;

async function logRound(exp: Experiment, points: number): Promise<number> {
  const run = await exp.start({ name: "bench" });
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < points; n++) {
    run.log("loss", 1 / (1 + n * 1e-5));
    if (n % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
  await run.end();
  return msSince(t0);
}

/** Points per second into the server through the sink: from the first point logged until the outbox says done. */
async function deliverRate(uri: string, points: number): Promise<number> {
  const root = tempRoot("mlflow-deliver");
  const exp = await experiment("deliver", { root, capture: false, mlflow: { trackingUri: uri, endWaitMs: 0 } });
  const run = await exp.start({ name: "deliver" });
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < points; n++) run.log("loss", 1 / (1 + n));
  await run.end();
  while (!readOutbox(run.dir!)?.done) await new Promise((r) => setTimeout(r, 20));
  return points / (msSince(t0) / 1000);
}

const PYTHON_LOG_BATCH = `
import sys, time
from mlflow.tracking import MlflowClient
from mlflow.entities import Metric
uri, n = sys.argv[1], int(sys.argv[2])
c = MlflowClient(tracking_uri=uri)
exp = c.get_experiment_by_name("python") or c.get_experiment(c.create_experiment("python"))
run = c.create_run(exp.experiment_id)
t0 = time.time()
for s in range(0, n, 1000):
    now = int(time.time() * 1000)
    c.log_batch(run.info.run_id, metrics=[Metric("loss", 1 / (1 + i), now, i) for i in range(s, min(n, s + 1000))])
print(n / (time.time() - t0))
`;

async function main(): Promise<void> {
  const rounds = arg("rounds", 3);
  const points = arg("points", 1_000_000);
  const deliver = arg("deliver", 20_000);
  console.log(`mlflow: ${machineNote()}; ${rounds} interleaved rounds of ${points.toLocaleString("en-US")} points`);
  const server = await MlflowServer.start();
  try {
    const root = tempRoot("mlflow");
    const plain = await experiment("plain", { root, capture: false });
    const upSink = new MlflowSink({ trackingUri: server.uri, endWaitMs: 0 });
    const up = await experiment("up", { root, capture: false, sinks: [upSink] });
    const downSink = new MlflowSink({ trackingUri: `http://127.0.0.1:${await freePort()}`, endWaitMs: 0 });
    const down = await experiment("down", { root, capture: false, sinks: [downSink] });
    await logRound(plain, 100_000); // warm-up
    const base: number[] = [];
    const withUp: number[] = [];
    const withDown: number[] = [];
    // The order alternates from round to round (no sink, up, down; then down, up, no sink; …),
    // so that a machine getting busier or quieter over the run favours neither side.
    const legs = {
      "no sink": async () => base.push(await logRound(plain, points)),
      "server up": async () => {
        withUp.push(await logRound(up, points));
        upSink.stop(); // the rest of this round's points would compete with the next rounds
      },
      "server down": async () => {
        withDown.push(await logRound(down, points));
        downSink.stop();
      },
    };
    for (let r = 0; r < rounds; r++) {
      const names = Object.keys(legs) as (keyof typeof legs)[];
      const order = r % 2 === 0 ? names : [...names].reverse();
      for (const leg of order) await legs[leg]();
      console.log(
        `  round ${r + 1} (${order.join(", ")}): no sink ${base[r].toFixed(0)} ms, server up ${withUp[r].toFixed(0)} ms (${(withUp[r] / base[r]).toFixed(2)}×), server down ${withDown[r].toFixed(0)} ms (${(withDown[r] / base[r]).toFixed(2)}×)`,
      );
    }
    const upRatio = median(withUp.map((t, i) => t / base[i]));
    const downRatio = median(withDown.map((t, i) => t / base[i]));
    console.log(`  median ratio over ${rounds} rounds: server up ${upRatio.toFixed(2)}×, server down ${downRatio.toFixed(2)}×`);

    const sinkRate = await deliverRate(server.uri, deliver);
    const pyRate = Number(execFileSync(venvPython(), ["-c", PYTHON_LOG_BATCH, server.uri, String(deliver)], { encoding: "utf8" }).trim());
    const sinkRate2 = await deliverRate(server.uri, deliver);
    const labRate = Math.max(sinkRate, sinkRate2);
    console.log(`  delivery: sink ${fmtRate(sinkRate)} and ${fmtRate(sinkRate2)}, Python log_batch(1000) ${fmtRate(pyRate)}`);
    const rows: Row[] = [
      { figure: `logging ${points.toLocaleString("en-US")} points, MLflow sink on (server up) / no sink`, value: `${upRatio.toFixed(2)}×`, target: "≤ 1.1×", verdict: verdict(upRatio <= 1.1) },
      { figure: `logging ${points.toLocaleString("en-US")} points, MLflow sink on (server down) / no sink`, value: `${downRatio.toFixed(2)}×`, target: "≤ 1.1×", verdict: verdict(downRatio <= 1.1) },
      { figure: "logging without sink (median)", value: `${median(base).toFixed(0)} ms`, target: "", verdict: "info" },
      { figure: `delivered into the server by the sink (${deliver.toLocaleString("en-US")} points)`, value: fmtRate(labRate), target: "", verdict: "info" },
      { figure: "MLflow's Python client, log_batch of 1,000, same server", value: fmtRate(pyRate), target: "", verdict: "info" },
      { figure: "delivery rate sink / Python client", value: `${(labRate / pyRate).toFixed(2)}×`, target: "≥ 1×", verdict: verdict(labRate >= pyRate) },
    ];
    report("mlflow", rows);
  } finally {
    await server.stop({ remove: true });
  }
}

runMain(main);
