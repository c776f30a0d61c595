/**
 * Runs a whole notebook through a real Jupyter client (nbclient in `.venv`) and the tslab
 * kernel, the way a person's "Run All" would, and returns what was produced.
 *
 * @example
 *   const { notebook, messages } = await executeNotebook("notebooks/quickstart.ipynb");
 *   const outputs = notebook.cells[1].outputs;
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { helperScript, venvPython } from "./env";
import type { JupyterMessage } from "./messages";

/** Options of {@link executeNotebook}. */
export interface ExecuteNotebookOptions {
  /** The kernel's working directory (default: the notebook's folder, as in JupyterLab). */
  readonly cwd?: string;
  /** Variables added to the kernel's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Milliseconds one cell may run (default 120 000). */
  readonly timeout?: number;
  /** Milliseconds the whole run may take before it is stopped (default 10 minutes). */
  readonly totalTimeout?: number;
  /** The kernel spec name (default "tslab"). */
  readonly kernelName?: string;
  /** Keep going after a failing cell and resolve anyway (default false: reject). */
  readonly allowErrors?: boolean;
  /** Also write the executed notebook to this path. */
  readonly saveTo?: string;
  /** The Python that runs nbclient, and so whose Jupyter has the kernel (default: the project's `.venv`). */
  readonly python?: string;
}

/** A notebook cell as nbformat 4 stores it. */
export interface NotebookCell {
  readonly cell_type: "code" | "markdown" | "raw";
  readonly source: string;
  readonly metadata: Record<string, any>;
  readonly outputs?: Array<Record<string, any>>;
  readonly execution_count?: number | null;
}

/** An nbformat 4 notebook. */
export interface Notebook {
  readonly cells: NotebookCell[];
  readonly metadata: Record<string, any>;
  readonly nbformat: number;
  readonly nbformat_minor: number;
}

/** What {@link executeNotebook} returns. */
export interface ExecutedNotebook {
  /** The executed notebook with outputs, folded as nbclient folds them (update_display_data applied). */
  readonly notebook: Notebook;
  /** Every IOPub message of each cell, indexed like `notebook.cells` (empty for non-code cells). */
  readonly messages: JupyterMessage[][];
  /** The failure of the run (a cell's error, a timeout, a dead kernel), or null. */
  readonly error: string | null;
}

/** Thrown when a cell fails and `allowErrors` is not set; carries the partial result. */
export class NotebookExecutionError extends Error {
  override readonly name = "NotebookExecutionError";
  constructor(
    message: string,
    readonly result?: ExecutedNotebook,
  ) {
    super(message);
  }
}

/** Executes the notebook at `notebookPath` and resolves to the executed notebook and its messages. */
export async function executeNotebook(
  notebookPath: string,
  options: ExecuteNotebookOptions = {},
): Promise<ExecutedNotebook> {
  const abs = path.resolve(notebookPath);
  if (!fs.existsSync(abs)) throw new NotebookExecutionError(`executeNotebook: no notebook at ${abs}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-nb-"));
  const resultFile = path.join(tmp, "result.json");
  const cwd = path.resolve(options.cwd ?? path.dirname(abs));
  const args = [
    helperScript("run_notebook.py"),
    abs,
    resultFile,
    "--kernel",
    options.kernelName ?? "tslab",
    "--cwd",
    cwd,
    "--timeout",
    String(Math.ceil((options.timeout ?? 120_000) / 1000)),
  ];
  if (options.allowErrors) args.push("--allow-errors");
  if (options.saveTo !== undefined) args.push("--save", path.resolve(options.saveTo));
  const env: NodeJS.ProcessEnv = { JPY_SESSION_NAME: abs, ...process.env, ...options.env, PYTHONUNBUFFERED: "1" };
  env.JPY_SESSION_NAME = options.env?.JPY_SESSION_NAME ?? abs;
  // The kernel should see what it sees under JupyterLab, not the test runner's own markers.
  delete env.NODE_TEST_CONTEXT;

  const child = spawn(options.python ?? venvPython(), args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  // The runner stops when this pipe closes, so a killed test process leaves no kernel behind.
  child.stdin.on("error", () => {});
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    if (process.env.LABNOTE_KERNEL_DEBUG) process.stderr.write(chunk);
    stderr = (stderr + chunk).slice(-8000);
  });
  child.stdout.resume();
  // Exit of the test process mid-run: stop the runner, which shuts its kernel down.
  const onExit = () => child.kill("SIGTERM");
  process.on("exit", onExit);
  const total = options.totalTimeout ?? 600_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
  }, total);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (c) => resolve(c));
  }).finally(() => {
    clearTimeout(timer);
    process.off("exit", onExit);
  });

  let result: ExecutedNotebook | undefined;
  try {
    result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as ExecutedNotebook;
  } catch {
    result = undefined;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const tail = stderr.trim() ? `\n--- runner stderr (tail) ---\n${stderr.trim()}` : "";
  if (result === undefined) {
    throw new NotebookExecutionError(
      `executeNotebook: ${path.basename(abs)} produced no result (exit ${code}${timedOut ? `, stopped after ${total} ms` : ""})${tail}`,
    );
  }
  if (timedOut) result = { ...result, error: `stopped after ${total} ms${result.error ? `: ${result.error}` : ""}` };
  if (result.error !== null && !options.allowErrors) {
    throw new NotebookExecutionError(`executeNotebook: ${path.basename(abs)} failed: ${result.error}${tail}`, result);
  }
  return result;
}
