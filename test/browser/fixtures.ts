/** Hand-made payloads and bundles, shaped as the kernel side sends them, and stores written by hand. */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repo } from "./lab";
import { downsample, MIME, PROTOCOL_VERSION, type RunPayload, type RunStatus } from "../../src/protocol/index";

export const EVIL = `<img src=x onerror="document.body.dataset.pwned='1'">`;

export interface FixtureRun {
  experiment?: string;
  number?: number;
  status?: RunStatus;
  steps?: number;
  metrics?: string[];
  config?: Record<string, unknown>;
  modified?: string[];
  error?: string;
  artifacts?: RunPayload["artifacts"];
}

/** A run payload with `steps` points per metric, downsampled as the kernel does. */
export function runPayload(o: FixtureRun = {}): RunPayload {
  const experiment = o.experiment ?? "demo";
  const number = o.number ?? 1;
  const steps = o.steps ?? 100;
  const names = o.metrics ?? ["loss", "accuracy"];
  const now = Date.now();
  const config = o.config ?? { lr: 0.01, optimizer: { name: "adam", beta: 0.9 }, epochs: 10 };
  const flat: [string, unknown][] = [];
  const walk = (prefix: string, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    else flat.push([prefix, v]);
  };
  walk("", config);
  const modified = new Set(o.modified ?? ["lr"]);
  return {
    v: PROTOCOL_VERSION,
    kind: "run",
    id: `${experiment}/${number}`,
    experiment,
    number,
    name: `${experiment} #${number}`,
    status: o.status ?? "running",
    tags: ["fixture"],
    startTime: now - 5000,
    endTime: o.status && o.status !== "running" ? now : undefined,
    sentAt: now,
    config: flat.map(([key, v]) => ({ key, value: JSON.stringify(v), modified: modified.has(key), added: false })),
    metrics: names.map((name, m) => {
      const s = Array.from({ length: steps }, (_, i) => i);
      const v = s.map((i) => (m === 0 ? 2 * Math.exp(-i / (steps / 3)) + 0.05 * Math.sin(i) : 1 - Math.exp(-i / (steps / 4))));
      const series = downsample(s, v, steps, 200);
      return {
        name,
        count: steps,
        lastStep: steps - 1,
        last: v[steps - 1] ?? 0,
        min: Math.min(...v),
        max: Math.max(...v),
        series,
      };
    }),
    artifacts: o.artifacts ?? [],
    error: o.error ? { message: o.error } : undefined,
    root: "experiments",
    cwd: "/",
  };
}

/** The bundle the kernel sends: labnote's MIME type plus fallbacks. */
export function bundle(p: RunPayload): Record<string, unknown> {
  return {
    [MIME.run]: p,
    "text/plain": `labnote run ${p.id} (${p.status})`,
    "text/html": `<pre>labnote run ${p.id}</pre>`,
  };
}

/**
 * Logs a run of `points` points of "loss" (and 1,000 of "val_loss") as experiment "long" into
 * `<root>/experiments` with the library itself, in a process of its own, and waits for its files.
 */
export function writeLongRun(root: string, points: number): void {
  const script = `
    const { experiment, whenWritten } = require(${JSON.stringify(path.join(repo, "src", "index.ts"))});
    (async () => {
      const exp = await experiment("long", { root: ${JSON.stringify(path.join(root, "experiments"))}, capture: false, config: { lr: 0.01 } });
      const run = await exp.start({ name: "ten million" });
      const n = ${points};
      for (let i = 0; i < n; i++) run.log("loss", Math.exp(-i / (n / 5)) + 0.05 * Math.sin(i / 1000));
      for (let i = 0; i < 1000; i++) run.log("val_loss", Math.exp(-i / 200), i * (n / 1000));
      await run.end();
      await whenWritten();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: repo, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`writing the long run failed: ${r.stderr || r.error}`);
}

/** Write `n` finished runs the way the store lays them out. */
export function writeRuns(root: string, experiment: string, n: number): void {
  const statuses = ["completed", "completed", "completed", "failed", "interrupted"];
  for (let i = 1; i <= n; i++) {
    const dir = path.join(root, "experiments", experiment, String(i));
    mkdirSync(dir, { recursive: true });
    const start = Date.now() - (n - i) * 60_000;
    const lr = [0.1, 0.03, 0.01, 0.003][i % 4];
    const rec = {
      format: 1,
      id: `${experiment}/${i}`,
      experiment,
      number: i,
      name: `trial ${i}`,
      status: statuses[i % statuses.length],
      tags: i % 7 ? [] : ["sweep"],
      startTime: start,
      endTime: start + 1000 + (i % 97) * 350,
      duration: 1000 + (i % 97) * 350,
      heartbeat: start + 1000,
      config: { lr, batch: [32, 64, 128][i % 3], epochs: 10, optimizer: { name: i % 2 ? "adam" : "sgd", momentum: 0.9 }, seed: i },
      modified: ["lr", "batch"],
      added: [],
      metrics: {
        loss: { count: 1000, lastStep: 999, last: 0.05 + (i % 13) / 100, min: 0.04, max: 2.3 },
        accuracy: { count: 1000, lastStep: 999, last: 0.9 + (i % 9) / 100, min: 0.1, max: 0.99 },
        val_loss: { count: 100, lastStep: 99, last: i % 50 === 0 ? "NaN" : 0.1 + (i % 11) / 100, min: 0.09, max: 2.5 },
      },
      artifacts: [],
    };
    writeFileSync(path.join(dir, "run.json"), JSON.stringify(rec, null, 2) + "\n");
  }
}

/** The value a run written by {@link writeMetricRuns} logs at step `i` in run `k` (0-based): a slow decay with a fast wiggle that only raw points show. */
export function zoomValue(i: number, k: number): number {
  return 1 / (1 + i / 200_000) + 0.1 * Math.sin(i / 40 + k) + k / 50;
}

/**
 * Logs `runs` finished runs of experiment `experiment` into `<root>/experiments` with the
 * library itself, in a process of its own, each with `points` points of "loss" (the values of
 * {@link zoomValue}, step = point index), and waits for their files (columns, summaries,
 * metrics.csv).
 */
export function writeMetricRuns(root: string, experiment: string, runs: number, points: number): void {
  const script = `
    const { experiment, whenWritten } = require(${JSON.stringify(path.join(repo, "src", "index.ts"))});
    const value = ${zoomValue.toString()};
    (async () => {
      const exp = await experiment(${JSON.stringify(experiment)}, { root: ${JSON.stringify(path.join(root, "experiments"))}, capture: false, config: { lr: 0.01 } });
      for (let k = 0; k < ${runs}; k++) {
        const run = await exp.start({ name: "run " + k, config: { seed: k } });
        for (let i = 0; i < ${points}; i++) run.log("loss", value(i, k));
        await run.end();
      }
      await whenWritten();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: repo, encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) throw new Error(`writing the runs of ${experiment} failed: ${r.stderr || r.error}`);
}
