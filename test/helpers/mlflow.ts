/**
 * A real MLflow tracking server for tests: `mlflow server` from the project's `.venv`, on a free
 * loopback port, with a SQLite backend and served artifacts in a temporary folder. It can be
 * stopped and started again on the same port and store (a server that goes away mid-run), and
 * it never outlives the test process.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { helperScript, repoRoot, venvPython } from "./env";

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of live) killGroup(p, "SIGKILL");
});

function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (p.pid !== undefined) process.kill(-p.pid, signal);
  } catch {
    /* gone */
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Options of a test server. */
export interface MlflowServerOptions {
  /** The folder of its database and artifacts (default: a new temporary folder, removed by stop({ remove: true })). */
  dir?: string;
  /** Extra environment for the server (e.g. auth settings). */
  env?: Record<string, string>;
  /** How long to wait for it to answer (ms). */
  startTimeout?: number;
}

/** One `mlflow server` process and its store. */
export class MlflowServer {
  /** `http://127.0.0.1:<port>` */
  readonly uri: string;
  readonly port: number;
  readonly dir: string;

  private constructor(port: number, dir: string, private readonly options: MlflowServerOptions) {
    this.port = port;
    this.dir = dir;
    this.uri = `http://127.0.0.1:${port}`;
  }

  /** Start a server on a free port and wait until it answers. */
  static async start(options: MlflowServerOptions = {}): Promise<MlflowServer> {
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "labnote-mlflow-"));
    const server = new MlflowServer(await freePort(), dir, options);
    await server.start();
    return server;
  }

  /** True while the server process runs. */
  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Start (again) on the same port and store; resolves once it answers `/health`. */
  async start(): Promise<void> {
    if (this.proc) return;
    const bin = path.join(path.dirname(venvPython()), "mlflow");
    const args = [
      "server",
      "--backend-store-uri", `sqlite:///${path.join(this.dir, "mlflow.db")}`,
      "--serve-artifacts",
      "--artifacts-destination", path.join(this.dir, "artifacts"),
      "--host", "127.0.0.1",
      "--port", String(this.port),
      "--workers", "1",
    ];
    this.log = fs.openSync(path.join(this.dir, "server.log"), "a");
    const proc = spawn(bin, args, {
      cwd: this.dir,
      detached: true,
      stdio: ["ignore", this.log, this.log],
      env: { ...process.env, MLFLOW_TRACKING_URI: "", ...this.options.env, PYTHONUNBUFFERED: "1" },
    });
    this.proc = proc;
    live.add(proc);
    let exited = false;
    proc.on("exit", () => {
      exited = true;
      live.delete(proc);
    });
    const deadline = Date.now() + (this.options.startTimeout ?? 120_000);
    for (;;) {
      if (exited) throw new Error(`mlflow server exited at start; its log:\n${this.logText().slice(-3000)}`);
      try {
        const r = await fetch(`${this.uri}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) return;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`mlflow server did not answer on ${this.uri} in time; its log:\n${this.logText().slice(-3000)}`);
      }
      await sleep(250);
    }
  }

  /** Stop the server (its whole process group) and wait until the port is free. */
  async stop(options: { remove?: boolean } = {}): Promise<void> {
    const p = this.proc;
    if (p) {
      this.proc = undefined;
      const gone = new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once("exit", () => r())));
      killGroup(p, "SIGTERM");
      const t = setTimeout(() => killGroup(p, "SIGKILL"), 5000);
      await gone;
      clearTimeout(t);
      // Workers of the group may outlive the parent for a moment.
      killGroup(p, "SIGKILL");
      if (this.log !== undefined) fs.closeSync(this.log);
      this.log = undefined;
      for (let i = 0; i < 40; i++) {
        try {
          await fetch(`${this.uri}/health`, { signal: AbortSignal.timeout(500) });
          await sleep(100);
        } catch {
          break;
        }
      }
    }
    if (options.remove) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The server's own log (stdout and stderr). */
  logText(): string {
    try {
      return fs.readFileSync(path.join(this.dir, "server.log"), "utf8");
    } catch {
      return "";
    }
  }

  private proc: ChildProcess | undefined;
  private log: number | undefined;
}

/** A run as MLflow's own Python client (`mlflow.tracking.MlflowClient`) reads it back. */
export interface MlflowRead {
  runs: {
    info: { run_id: string; run_name: string; status: string; start_time: number; end_time: number | null; artifact_uri: string; experiment_id: string };
    params: Record<string, string>;
    tags: Record<string, string>;
    /** Per metric key: steps, timestamps, and values as the hex of little-endian float64s (NaN and infinities cross exactly). */
    metrics: Record<string, { steps: number[]; timestamps: number[]; values: string }>;
    /** Every artifact path, recursively. */
    artifacts: string[];
    /** Contents of the artifacts asked for. */
    files: Record<string, string>;
  }[];
}

/**
 * The runs of MLflow experiment `experiment` (all of them, or those whose tag `labnote.run_id` is
 * `runId`), read with MLflow's Python client; `files` are artifact paths to download and return.
 */
export function readMlflow(uri: string, experiment: string, runId?: string, files: string[] = []): Promise<MlflowRead> {
  return new Promise((resolve, reject) => {
    execFile(
      venvPython(),
      [helperScript("mlflow_read.py"), uri, experiment, runId ?? "", JSON.stringify(files)],
      { maxBuffer: 1 << 30, cwd: repoRoot, env: { ...process.env, MLFLOW_TRACKING_URI: uri } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as MlflowRead)),
    );
  });
}

/** Float64 values from the hex the reader prints. */
export function doubles(hex: string): Float64Array {
  const b = Buffer.from(hex, "hex");
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** What a test file gets of its MLflow server (see {@link useMlflowServer}). */
export interface MlflowSuite {
  /** The server (started before the file's first test). */
  readonly server: MlflowServer;
  /** `http://127.0.0.1:<port>` */
  readonly uri: string;
  /** Wait until the outbox in `dir` (a run's `mlflow.json`, or `file`) says MLflow has all of it. */
  delivered(dir: string, options?: { ms?: number; file?: string }): Promise<void>;
  /** The one MLflow run of `experiment` tagged `labnote.run_id` = `runId`, read with MLflow's Python client. */
  oneRun(experiment: string, runId: string, files?: string[]): Promise<MlflowRead["runs"][number]>;
  /** POST to MLflow's REST API (`/api/2.0/mlflow/<endpoint>`); a refused call fails the test. */
  rest<T = Record<string, unknown>>(endpoint: string, body: unknown): Promise<T>;
  /** The runs of MLflow experiment `experiment` matching a `runs/search` filter, all pages. */
  search(experiment: string, filter: string): Promise<SearchedRun[]>;
  /**
   * A labnote sweep in MLflow: its parent runs (tagged `labnote.sweep_id` = `sweepId`; one when
   * all is well) and the children of the first (tagged `mlflow.parentRunId`), by labnote run number.
   */
  sweepFamily(experiment: string, sweepId: string): Promise<{ parents: SearchedRun[]; children: SearchedRun[] }>;
  /** Start the server again if a test stopped it (for `finally` blocks). */
  ensureRunning(): Promise<void>;
  /** Run `fn` with `MLFLOW_TRACKING_URI` naming this server (as `mlflow: true` reads it), restored after. */
  withTrackingUri<T>(fn: () => Promise<T>): Promise<T>;
}

/** A run as MLflow's REST API gives it (`runs/search`), with its tags and params as objects. */
export interface SearchedRun {
  info: { run_id: string; run_name?: string; status: string; start_time: number; end_time?: number };
  tags: Record<string, string>;
  params: Record<string, string>;
  /** Each metric's latest value. */
  metrics: Record<string, number>;
}

/**
 * Deliveries share two cores with everything else: a 1,000-point batch has taken 5 s here.
 */
export const DELIVERY_MS = 240_000;

/**
 * One real MLflow server for a whole test file: started before its tests, stopped and its folder
 * removed after them; with the waits and reads the MLflow tests share.
 * @example
 * const mlflow = useMlflowServer();
 * it("…", async () => { const exp = await experiment("x", { mlflow: { trackingUri: mlflow.uri } }); … await mlflow.delivered(run.dir!); });
 */
export function useMlflowServer(options: MlflowServerOptions & { after?: () => Promise<void> } = {}): MlflowSuite {
  let server: MlflowServer | undefined;
  before(async () => {
    server = await MlflowServer.start(options);
  });
  after(async () => {
    await options.after?.();
    await server?.stop({ remove: true });
  });
  const need = (): MlflowServer => {
    if (!server) throw new Error("the MLflow server is not started yet (use it inside a test)");
    return server;
  };
  const rest = async <T>(endpoint: string, body: unknown): Promise<T> => {
    const r = await fetch(`${need().uri}/api/2.0/mlflow/${endpoint}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${endpoint}: ${r.status} ${text}`);
    return JSON.parse(text || "{}") as T;
  };
  return {
    get server() {
      return need();
    },
    get uri() {
      return need().uri;
    },
    async delivered(dir, o = {}) {
      const file = path.join(dir, o.file ?? "mlflow.json");
      const ms = o.ms ?? DELIVERY_MS;
      const deadline = Date.now() + ms;
      for (;;) {
        let text = "";
        try {
          text = fs.readFileSync(file, "utf8");
          if ((JSON.parse(text) as { done?: boolean }).done === true) return;
        } catch {
          /* not there yet, or being replaced */
        }
        if (Date.now() > deadline) throw new Error(`${file} not delivered after ${ms} ms; outbox: ${text}`);
        await sleep(250);
      }
    },
    async oneRun(experiment, runId, files = []) {
      const read = await readMlflow(need().uri, experiment, runId, files);
      if (read.runs.length !== 1) throw new Error(`MLflow runs tagged ${runId}: ${read.runs.length}`);
      return read.runs[0];
    },
    rest,
    async search(experiment, filter) {
      const got = await fetch(`${need().uri}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experiment)}`);
      if (!got.ok) throw new Error(`no MLflow experiment "${experiment}": ${got.status} ${await got.text()}`);
      const e = ((await got.json()) as { experiment: { experiment_id: string } }).experiment;
      const out: SearchedRun[] = [];
      let token: string | undefined;
      do {
        const page = await rest<{ runs?: { info: SearchedRun["info"]; data?: { tags?: { key: string; value: string }[]; params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[] } }[]; next_page_token?: string }>("runs/search", {
          experiment_ids: [e.experiment_id],
          filter,
          max_results: 1000,
          run_view_type: "ALL",
          ...(token ? { page_token: token } : {}),
        });
        for (const r of page.runs ?? []) {
          const obj = <V>(xs: { key: string; value: V }[] | undefined) => Object.fromEntries((xs ?? []).map((x) => [x.key, x.value])) as Record<string, V>;
          out.push({ info: { ...r.info, start_time: Number(r.info.start_time), end_time: r.info.end_time === undefined ? undefined : Number(r.info.end_time) }, tags: obj(r.data?.tags), params: obj(r.data?.params), metrics: obj(r.data?.metrics) });
        }
        token = page.next_page_token || undefined;
      } while (token);
      return out;
    },
    async sweepFamily(experiment, sweepId) {
      const parents = await this.search(experiment, `tags.\`labnote.sweep_id\` = '${sweepId}'`);
      const children = parents.length ? await this.search(experiment, `tags.\`mlflow.parentRunId\` = '${parents[0].info.run_id}'`) : [];
      const n = (r: SearchedRun) => Number((r.tags["labnote.run_id"] ?? "").split("/").pop());
      children.sort((a, b) => n(a) - n(b));
      return { parents, children };
    },
    async ensureRunning() {
      if (!need().running) await need().start();
    },
    async withTrackingUri(fn) {
      const saved = process.env.MLFLOW_TRACKING_URI;
      process.env.MLFLOW_TRACKING_URI = need().uri;
      try {
        return await fn();
      } finally {
        if (saved === undefined) delete process.env.MLFLOW_TRACKING_URI;
        else process.env.MLFLOW_TRACKING_URI = saved;
      }
    },
  };
}

/** What console.warn says from now until `restore()`. */
export function captureWarnings(): { seen: string[]; restore(): void } {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
  return { seen, restore: () => (console.warn = original) };
}
