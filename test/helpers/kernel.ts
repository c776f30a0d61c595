/**
 * A real Jupyter kernel (tslab by default) driven step by step from a test, through
 * jupyter_client in the project's `.venv` (see kernel_session.py).
 *
 * @example
 *   const kernel = await KernelSession.start({ cwd: dir });
 *   after(() => kernel.shutdown());
 *   const result = await kernel.execute("1 + 1");
 *   assert.equal(streamText(result.messages).trim(), "2");
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { helperScript, repoRoot, venvPython } from "./env";
import type { JupyterMessage } from "./messages";

/** Options of {@link KernelSession.start}. */
export interface KernelSessionOptions {
  /** The kernel's working directory (default: the repository root). */
  readonly cwd?: string;
  /** Variables added to the kernel's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The kernel spec name (default "tslab"). */
  readonly kernelName?: string;
  /** Milliseconds to wait for the kernel to be ready (default 60 000). */
  readonly startupTimeout?: number;
  /** Sets JPY_SESSION_NAME, as JupyterLab does for a notebook's kernel. */
  readonly notebookPath?: string;
}

/** What one execution produced. */
export interface ExecuteResult {
  /** The reply's status ("ok", "error", "aborted"), or "timeout" / "dead" when none came. */
  readonly status: "ok" | "error" | "aborted" | "timeout" | "dead" | string;
  /** Every IOPub message whose parent is this execution, in arrival order (busy … idle). */
  readonly messages: JupyterMessage[];
  /** The `execute_reply`, or null after a timeout or a dead kernel. */
  readonly reply: JupyterMessage | null;
}

/** Thrown for failures of the harness itself (not for errors raised by cell code). */
export class KernelSessionError extends Error {
  override readonly name = "KernelSessionError";
}

interface Pending {
  resolve(value: any): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  op: string;
}

const live = new Set<KernelSession>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test forgot shutdown(): the process is leaving, so kill synchronously.
  process.on("exit", () => {
    for (const session of live) session.kill();
  });
}

/** A live kernel and the Python process that drives it. */
export class KernelSession {
  /**
   * Starts a kernel and waits until it answers.
   * @throws KernelSessionError when the kernel cannot start in time.
   */
  static async start(options: KernelSessionOptions = {}): Promise<KernelSession> {
    const session = new KernelSession(options);
    try {
      await session.ready;
      const startup = options.startupTimeout ?? 60_000;
      const result = (await session.request(
        "start",
        {
          kernel_name: options.kernelName ?? "tslab",
          cwd: path.resolve(options.cwd ?? repoRoot),
          startup_timeout: Math.ceil(startup / 1000),
        },
        startup + 15_000,
      )) as { pid: number | null };
      session.pid = result.pid;
    } catch (error) {
      session.kill();
      throw error;
    }
    return session;
  }

  /** Runs `code` as one cell and resolves when the kernel is idle again (or on timeout). */
  async execute(code: string, options: { timeout?: number } = {}): Promise<ExecuteResult> {
    const timeout = options.timeout ?? 60_000;
    const result = (await this.request(
      "execute",
      { code, timeout: timeout / 1000 },
      timeout + 15_000,
    )) as ExecuteResult;
    return { status: result.status, messages: result.messages, reply: result.reply };
  }

  /** Sends an interrupt (SIGINT) to the kernel; the running cell, if any, goes on to fail. */
  async interrupt(): Promise<void> {
    await this.request("interrupt", {}, 15_000);
  }

  /** Restarts the kernel (a running execution ends as "aborted"); resolves when it is ready. */
  async restart(options: { startupTimeout?: number } = {}): Promise<void> {
    const startup = options.startupTimeout ?? 60_000;
    const result = (await this.request(
      "restart",
      { startup_timeout: Math.ceil(startup / 1000) },
      startup + 30_000,
    )) as { pid: number | null };
    this.pid = result.pid;
  }

  /** The kernel's process id. */
  kernelPid(): number {
    if (this.pid === null) throw new KernelSessionError("KernelSession: the kernel has no process id (not started?)");
    return this.pid;
  }

  /** Shuts the kernel down and ends the driver; safe to call twice. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    try {
      await this.request("shutdown", {}, 20_000);
    } catch {
      // The driver may already be gone; kill() below makes sure nothing stays.
    }
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      const timer = setTimeout(() => {
        this.kill();
        resolve();
      }, 5_000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.stdin.end();
    });
    this.kill();
  }

  /** Kills the kernel and the driver at once, without waiting (used on process exit). */
  kill(): void {
    this.closed = true;
    live.delete(this);
    for (const [pid, signal] of [
      [this.pid, "SIGKILL"],
      [this.child.pid, "SIGTERM"],
    ] as const) {
      if (pid === null || pid === undefined) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    this.failAll(new KernelSessionError("KernelSession: shut down"));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  // -- private ----------------------------------------------------------------
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private pid: number | null = null;
  private closed = false;
  private stderrTail = "";

  private constructor(options: KernelSessionOptions) {
    installExitHook();
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    // The kernel should see what it sees under JupyterLab, not the test runner's own markers.
    delete env.NODE_TEST_CONTEXT;
    if (options.notebookPath !== undefined) env.JPY_SESSION_NAME = path.resolve(options.notebookPath);
    env.PYTHONUNBUFFERED = "1";
    this.child = spawn(venvPython(), [helperScript("kernel_session.py")], {
      cwd: path.resolve(options.cwd ?? repoRoot),
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    live.add(this);
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      if (process.env.LABNOTE_KERNEL_DEBUG) process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk).slice(-8000);
    });
    let onReady!: () => void;
    let onReadyFail!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onReadyFail = reject;
    });
    this.pending.set(0, {
      resolve: () => onReady(),
      reject: onReadyFail,
      timer: setTimeout(() => onReadyFail(this.failure("the kernel driver did not start in 30 s")), 30_000),
      op: "driver start",
    });
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => this.onLine(line));
    this.child.on("error", (error) => this.failAll(this.failure(`cannot run the kernel driver: ${error.message}`)));
    this.child.on("exit", (code, signal) => {
      live.delete(this);
      this.failAll(this.failure(`the kernel driver exited (code ${code}, signal ${signal})`));
    });
    this.updateRef();
  }

  private failure(what: string): KernelSessionError {
    const tail = this.stderrTail.trim();
    return new KernelSessionError(`KernelSession: ${what}${tail ? `\n--- driver stderr (tail) ---\n${tail}` : ""}`);
  }

  private onLine(line: string): void {
    let msg: { id: number | null; ok: boolean; result?: unknown; error?: string; trace?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      this.stderrTail = (this.stderrTail + `\n[stdout] ${line}`).slice(-8000);
      return;
    }
    const pending = msg.id === null ? undefined : this.pending.get(msg.id);
    if (pending === undefined) return;
    this.pending.delete(msg.id as number);
    clearTimeout(pending.timer);
    this.updateRef();
    if (msg.ok) pending.resolve(msg.result);
    else pending.reject(this.failure(`${pending.op} failed: ${msg.error}${msg.trace ? `\n${msg.trace}` : ""}`));
  }

  private request(op: string, fields: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new KernelSessionError(`KernelSession: ${op} after shutdown`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.updateRef();
        reject(this.failure(`${op} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, op });
      this.updateRef();
      this.child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
    this.updateRef();
  }

  /** An idle session does not keep the test process alive; the exit hook then cleans up. */
  private updateRef(): void {
    const busy = this.pending.size > 0 && !this.closed;
    const streams = [this.child.stdout, this.child.stderr, this.child.stdin] as Array<{ ref?(): void; unref?(): void }>;
    if (busy) {
      this.child.ref();
      for (const s of streams) s.ref?.();
    } else {
      this.child.unref();
      for (const s of streams) s.unref?.();
    }
  }
}
