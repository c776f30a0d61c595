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
