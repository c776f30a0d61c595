/**
 * The tslab bridge: the one module of labnote that touches the tslab kernel's internals.
 *
 * tslab (1.0.x) has no comm channel and no public way to send a display bundle with several MIME
 * types, to update it in place, or to learn when a cell starts and ends. This module finds the
 * kernel's live objects at run time (never through `import "tslab"`: a library may load another
 * copy of tslab, or none), hooks the few places it needs, and offers a small, stable surface.
 *
 * Everything here is feature-detected. Outside tslab, {@link getBridge} returns undefined
 * silently; inside a tslab whose internals look different, it warns once and returns undefined,
 * and the rest of labnote falls back to plain output.
 *
 * What it relies on (tslab 1.0.22, `dist/`):
 * - `globalThis.__tslab__.require("tslab")` is the kernel's own `public.js`; `jupyter.js` beside
 *   it exports the live `lastWriteDisplayData(content, update)` and the `JupyterHandlerImpl` class.
 * - `JupyterHandlerImpl.prototype.handleExecuteImpl(req, writeStream, writeDisplayData)` runs one
 *   cell (`req.code`), bumps `this.execCount`, and settles before the execute_reply and the idle
 *   status are sent: awaiting inside a wrapper holds both, so end-of-cell output reaches IOPub
 *   first.
 * - Cells run through `vm.runInThisContext("(function(exports, require) {…})(__tslab__.exports,
 *   __tslab__.require)")`; tslab swallows the thrown or rejected value, so the bridge records it
 *   on the way.
 * - SIGINT rejects a top-level await with "Interrupted asynchronously"; a synchronous loop is cut
 *   by `breakOnSigint` (error code ERR_SCRIPT_EXECUTION_INTERRUPTED).
 * - The cell running when the bridge is installed is already past those hooks: its request is
 *   read from the closure of `lastWriteDisplayData` (variable `msg`) with the in-process
 *   inspector, and its execute_reply and idle status are held at `ZmqMessage.prototype.signAndSend`.
 */
import * as path from "node:path";
import { LabnoteError, describeThrown } from "../protocol";

/** The cell that is executing. */
export interface CellInfo {
  /** The execution count shown in the notebook (`[n]`); 0 while unknown (see {@link getBridge}). */
  executionCount: number;
  /** The cell's source text, exactly as the kernel received it. */
  source: string;
  /** When the kernel began the cell (ms since the epoch). */
  startTime: number;
  /** The notebook's path, from JPY_SESSION_NAME (set by JupyterLab), when known. */
  notebookPath?: string;
}

/** How a cell ended. */
export interface CellOutcome {
  /** True when the cell completed (its top-level await included) without an error. */
  ok: boolean;
  /** True when the kernel was interrupted (SIGINT, the stop button) while the cell ran. */
  interrupted: boolean;
  /** What went wrong, whenever `ok` is false. */
  error?: { message: string; stack?: string };
  /** When the cell settled (ms since the epoch). */
  endTime: number;
}

/** The live kernel, seen from labnote. */
export interface KernelBridge {
  readonly kind: "tslab";
  /** Sends one `display_data` carrying every MIME type of `bundle`, under `displayId`. */
  display(bundle: Record<string, unknown>, displayId: string, metadata?: Record<string, unknown>): void;
  /** Sends `update_display_data` for `displayId`: every output showing it is replaced in place. */
  update(bundle: Record<string, unknown>, displayId: string, metadata?: Record<string, unknown>): void;
  /** The cell executing right now, if any (still that cell while its onCellEnd callbacks run). */
  currentCell(): CellInfo | undefined;
  /**
   * Called when a cell starts, before its code runs, once the kernel has pointed
   * `process.stdout.write`/`process.stderr.write` and the display channel at that cell.
   * Returns a function that unsubscribes.
   */
  onCellStart(cb: (cell: CellInfo) => void): () => void;
  /**
   * Called after the cell's code (including its top-level await) settled, before the reply is
   * sent if possible. Promises returned by callbacks are awaited (in parallel, for at most
   * {@link CELL_END_TIMEOUT_MS}, or until the kernel is interrupted) before the kernel replies.
   */
  onCellEnd(cb: (cell: CellInfo, outcome: CellOutcome) => void | Promise<void>): () => void;
  /**
   * Called once when the kernel is asked to shut down or restart (before it replies), or else when
   * the process exits. Synchronous: the process may end right after. A killed kernel calls nothing.
   */
  onShutdown(cb: () => void): () => void;
}

/** How long the kernel's reply waits for async onCellEnd callbacks. */
export const CELL_END_TIMEOUT_MS = 30_000;

const STATE_KEY = Symbol.for("labnote.kernelBridge");
const PATCHED = Symbol.for("labnote.kernelBridge.patched");
const CELL_TAIL = "\n})(__tslab__.exports, __tslab__.require)";
const ASYNC_CELL_HEAD = "(async function(exports, require) {";
const SIGINT_CODE = "ERR_SCRIPT_EXECUTION_INTERRUPTED";

interface GlobalState {
  readonly version: 1;
  readonly bridge: KernelBridge | undefined;
}

/**
 * The kernel's bridge, or undefined outside tslab.
 *
 * Idempotent and shared process-wide: every call, from any copy of labnote, returns the same
 * instance, and the kernel is hooked once. When tslab is found but its internals are not as
 * expected, one warning is printed and every call returns undefined.
 *
 * The cell that first calls getBridge() has already started; the bridge still reports it as the
 * current cell and fires onCellEnd for it, as long as Node's in-process inspector can read the
 * kernel's request; its executionCount is 0 until the cell ends, when the same CellInfo object
 * gets the real count (before onCellEnd callbacks run).
 *
 * @example
 *   const bridge = getBridge();
 *   bridge?.display({ "text/plain": "step 0", "text/html": "<b>step 0</b>" }, "run-1");
 *   bridge?.update({ "text/plain": "step 1", "text/html": "<b>step 1</b>" }, "run-1");
 */
export function getBridge(): KernelBridge | undefined {
  const global = globalThis as Record<PropertyKey, unknown>;
  const existing = global[STATE_KEY] as GlobalState | undefined;
  if (existing !== undefined) return existing.bridge;
  const hook = global.__tslab__ as { require?: unknown } | undefined;
  if (hook === null || typeof hook !== "object" || typeof hook.require !== "function") return undefined;
  let bridge: KernelBridge | undefined;
  try {
    bridge = createBridge(locateKernel(hook.require as NodeRequire));
  } catch (error) {
    bridge = undefined;
    const detail = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `labnote: the tslab kernel's internals are not as expected (${detail}); ` +
        "live widgets and cell-scoped runs are off; runs still work with callbacks and run.end()\n",
    );
  }
  const state: GlobalState = { version: 1, bridge };
  Object.defineProperty(global, STATE_KEY, { value: state, configurable: true, enumerable: false });
  return bridge;
}

// -- locating the kernel's objects ------------------------------------------------------------

type WriteDisplayData = (content: Record<string, unknown>, update: boolean) => void;
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

interface HandlerPrototype {
  handleExecuteImpl: AnyFunction;
  handleShutdown?: AnyFunction;
  createWriteToIopub?: AnyFunction;
  [PATCHED]?: true;
}

interface KernelInternals {
  /** The kernel's `jupyter.js` exports; `lastWriteDisplayData` must be read live. */
  readonly jupyter: { lastWriteDisplayData: unknown };
  readonly handlerPrototype: HandlerPrototype;
}

/** Finds the kernel's own `jupyter.js` through the module that cells get for `require("tslab")`. */
function locateKernel(cellRequire: NodeRequire): KernelInternals {
  let publicModule: unknown;
  try {
    publicModule = cellRequire("tslab");
  } catch (error) {
    throw new Error(`cannot load the kernel's own tslab module: ${(error as Error).message}`);
  }
  const entry = Object.values(require.cache).find((mod) => mod !== undefined && mod.exports === publicModule);
  if (entry === undefined) throw new Error("the kernel's tslab module is not in require.cache");
  const jupyterPath = path.join(path.dirname(entry.filename), "jupyter.js");
  const jupyter = require.cache[jupyterPath]?.exports as Record<string, unknown> | undefined;
  if (jupyter === undefined) throw new Error(`${jupyterPath} is not loaded`);
  if (!("lastWriteDisplayData" in jupyter)) throw new Error("jupyter.js has no lastWriteDisplayData");
  const handlerClass = jupyter.JupyterHandlerImpl as { prototype?: HandlerPrototype } | undefined;
  const handlerPrototype = handlerClass?.prototype;
  if (typeof handlerClass !== "function" || handlerPrototype === undefined) {
    throw new Error("jupyter.js has no JupyterHandlerImpl class");
  }
  if (typeof handlerPrototype.handleExecuteImpl !== "function") {
    throw new Error("JupyterHandlerImpl has no handleExecuteImpl method");
  }
  return { jupyter: jupyter as { lastWriteDisplayData: unknown }, handlerPrototype };
}

// -- the bridge -------------------------------------------------------------------------------

/** One cell between its start and the end of its end callbacks. */
interface CellRun {
  readonly cell: CellInfo;
  started: boolean;
  codeRan: boolean;
  interrupted: boolean;
  error?: { message: string; stack?: string };
  diagnostics: string;
}

function createBridge(kernel: KernelInternals): KernelBridge {
  const startCallbacks = new Set<(cell: CellInfo) => void>();
  const endCallbacks = new Set<(cell: CellInfo, outcome: CellOutcome) => void | Promise<void>>();
  const shutdownCallbacks = new Set<() => void>();
  let current: CellRun | undefined;
  let shutDown = false;
  let shuttingDown = false;
  let interruptWaiters: Array<() => void> = [];

  /** Tells on stderr (the running cell's output) what went wrong; never throws. */
  function report(what: string, error: unknown): void {
    try {
      const { message, stack } = describe(error);
      process.stderr.write(`labnote: ${what} failed: ${stack ?? message}\n`);
    } catch {
      // stderr is gone (kernel shutting down): nothing left to tell.
    }
  }

  function begin(cell: CellInfo): CellRun {
    const run: CellRun = { cell, started: false, codeRan: false, interrupted: false, diagnostics: "" };
    current = run;
    return run;
  }

  function fireStart(run: CellRun): void {
    if (run.started) return;
    run.started = true;
    for (const cb of [...startCallbacks]) {
      try {
        cb(run.cell);
      } catch (error) {
        report("a cell-start callback", error);
      }
    }
  }

  function outcomeOf(run: CellRun, ok: boolean, thrown?: unknown): CellOutcome {
    const endTime = Date.now();
    if (ok) return { ok: true, interrupted: false, endTime };
    let error = run.error;
    if (error === undefined && thrown !== undefined) error = describe(thrown);
    if (error === undefined && run.interrupted) error = { message: "Interrupted asynchronously" };
    if (error === undefined && !run.codeRan && run.diagnostics.trim() !== "") {
      error = { message: `the cell did not compile: ${run.diagnostics.trim()}` };
    }
    if (error === undefined) error = { message: "the cell failed (see its output)" };
    return { ok: false, interrupted: run.interrupted, error, endTime };
  }

  /** Runs the end callbacks; resolves when they settled, timed out, or the kernel was interrupted. */
  async function end(run: CellRun, outcome: CellOutcome): Promise<void> {
    fireStart(run);
    const waits: Promise<void>[] = [];
    for (const cb of [...endCallbacks]) {
      try {
        const result = cb(run.cell, outcome);
        if (result !== null && typeof result === "object" && typeof (result as Promise<void>).then === "function") {
          waits.push(Promise.resolve(result).then(undefined, (error) => report("a cell-end callback", error)));
        }
      } catch (error) {
        report("a cell-end callback", error);
      }
    }
    if (waits.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      let onInterrupt: (() => void) | undefined;
      const gaveUp = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("timeout"), CELL_END_TIMEOUT_MS);
        timer.unref();
        onInterrupt = () => resolve("interrupt");
        interruptWaiters.push(onInterrupt);
      });
      const why = await Promise.race([Promise.all(waits).then(() => "done"), gaveUp]);
      clearTimeout(timer);
      interruptWaiters = interruptWaiters.filter((w) => w !== onInterrupt);
      if (why === "timeout") {
        report("waiting for cell-end callbacks", `still pending after ${CELL_END_TIMEOUT_MS} ms; the kernel goes on`);
      }
    }
    if (current === run) current = undefined;
  }

  function send(bundle: Record<string, unknown>, displayId: string, metadata: Record<string, unknown> | undefined, update: boolean): void {
    if (bundle === null || typeof bundle !== "object") throw new LabnoteError("INVALID_VALUE", "Cannot display", "a display bundle must be an object of MIME type → data");
    if (typeof displayId !== "string" || displayId === "") throw new LabnoteError("INVALID_VALUE", "Cannot display", "a display id must be a non-empty string");
    if (shutDown) return;
    const write = kernel.jupyter.lastWriteDisplayData;
    // Null only before the first cell ran, when nothing in labnote can be calling yet.
    if (typeof write !== "function") return;
    const data: Record<string, unknown> = {};
    for (const [mime, value] of Object.entries(bundle)) {
      data[mime] = binary(value) ?? value;
    }
    try {
      (write as WriteDisplayData)({ data, metadata: metadata ?? {}, transient: { display_id: displayId } }, update);
    } catch (error) {
      report(update ? "update_display_data" : "display_data", error);
    }
  }

  function shutdown(): void {
    if (shuttingDown) return;
    shuttingDown = true;
    // The callbacks may still send (a card's final "interrupted"): the channel closes after them.
    for (const cb of [...shutdownCallbacks]) {
      try {
        cb();
      } catch (error) {
        report("a shutdown callback", error);
      }
    }
    shutDown = true;
  }

  const hooks: Hooks = {
    begin,
    fireStart,
    outcomeOf,
    end,
    current: () => current,
    interrupted: () => {
      if (current !== undefined) current.interrupted = true;
      const waiters = interruptWaiters;
      interruptWaiters = [];
      for (const w of waiters) w();
    },
    shutdown,
    report,
  };
  installHooks(kernel, hooks);

  const bridge: KernelBridge = {
    kind: "tslab",
    display: (bundle, displayId, metadata) => send(bundle, displayId, metadata, false),
    update: (bundle, displayId, metadata) => send(bundle, displayId, metadata, true),
    currentCell: () => current?.cell,
    onCellStart: (cb) => subscribe(startCallbacks, cb),
    onCellEnd: (cb) => subscribe(endCallbacks, cb),
    onShutdown: (cb) => subscribe(shutdownCallbacks, cb),
  };
  return Object.freeze(bridge);
}

function subscribe<T>(set: Set<T>, cb: T): () => void {
  if (typeof cb !== "function") throw new LabnoteError("INVALID_VALUE", "Cannot subscribe to the kernel", "a callback must be a function");
  set.add(cb);
  return () => {
    set.delete(cb);
  };
}

/** A thrown value's message and stack, for cell outcomes. */
function describe(thrown: unknown): { message: string; stack?: string } {
  const { message, stack } = describeThrown(thrown);
  return stack === undefined ? { message } : { message, stack };
}

function errorCode(error: unknown): unknown {
  try {
    return (error as { code?: unknown } | null)?.code;
  } catch {
    return undefined;
  }
}

/** Binary values travel as base64 text, as Jupyter expects (and as tslab's display.raw does). */
function binary(value: unknown): string | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString("base64");
  return undefined;
}

function notebookPath(): string | undefined {
  const name = process.env.JPY_SESSION_NAME;
  return name === undefined || name === "" ? undefined : name;
}

// -- hooks into the kernel --------------------------------------------------------------------

interface Hooks {
  begin(cell: CellInfo): CellRun;
  fireStart(run: CellRun): void;
  outcomeOf(run: CellRun, ok: boolean, thrown?: unknown): CellOutcome;
  end(run: CellRun, outcome: CellOutcome): Promise<void>;
  current(): CellRun | undefined;
  interrupted(): void;
  shutdown(): void;
  report(what: string, error: unknown): void;
}

function installHooks(kernel: KernelInternals, hooks: Hooks): void {
  const proto = kernel.handlerPrototype;
  if (proto[PATCHED]) throw new Error("the kernel was already hooked by another bridge");
  // Read the cell that is running now before anything changes (it started before the hooks).
  const inflight = captureInflightCell(kernel, hooks);

  const handleExecuteImpl = proto.handleExecuteImpl;
  // Whatever goes wrong in labnote's bookkeeping, the kernel's own call runs and its result or
  // error passes through unchanged.
  let pendingInflight = inflight;
  proto.handleExecuteImpl = async function (this: unknown, ...args: unknown[]) {
    const handler = this as { execCount?: unknown };
    if (pendingInflight !== undefined) {
      const before = pendingInflight;
      pendingInflight = undefined;
      try {
        await before.beforeNextCell(handler.execCount);
      } catch (error) {
        hooks.report("ending a cell", error);
      }
    }
    let run: CellRun | undefined;
    try {
      const req = args[0] as { code?: unknown } | undefined;
      run = hooks.begin({
        executionCount: typeof handler.execCount === "number" ? handler.execCount + 1 : 0,
        source: typeof req?.code === "string" ? req.code : "",
        startTime: Date.now(),
        notebookPath: notebookPath(),
      });
    } catch (error) {
      hooks.report("starting a cell", error);
    }
    // The kernel runs the cell's synchronous part inside this call; start callbacks fire from the
    // vm hook just before the code, with the cell's own stdout and display channel in place, or
    // right after it when no code runs (a compile error, declarations only).
    let settled: unknown;
    try {
      settled = handleExecuteImpl.apply(this, args);
    } catch (error) {
      settled = Promise.reject(error);
    }
    if (run !== undefined) hooks.fireStart(run);
    let result: unknown;
    let thrown: unknown;
    let threw = false;
    try {
      result = await settled;
    } catch (error) {
      thrown = error;
      threw = true;
    }
    if (run !== undefined) {
      try {
        // tslab resolves with, or throws, an ExecutionCount { count } (throws it when the cell failed).
        const counted = (threw ? thrown : result) as { count?: unknown } | null | undefined;
        const isCount = counted !== null && typeof counted === "object" && typeof counted.count === "number";
        if (isCount) run.cell.executionCount = counted.count as number;
        const unexpected = threw && !(isCount && !(thrown instanceof Error));
        await hooks.end(run, hooks.outcomeOf(run, !threw, unexpected ? thrown : undefined));
      } catch (error) {
        hooks.report("ending a cell", error);
      }
    }
    if (threw) throw thrown;
    return result;
  };

  if (typeof proto.handleShutdown === "function") {
    const handleShutdown = proto.handleShutdown;
    proto.handleShutdown = function (this: unknown, ...args: unknown[]) {
      hooks.shutdown();
      return handleShutdown.apply(this, args);
    };
  }
  process.once("exit", () => hooks.shutdown());

  // Compile errors are printed, never thrown: keep what the kernel prints on stderr before the
  // cell's code runs, to say why a cell failed.
  if (typeof proto.createWriteToIopub === "function") {
    const createWriteToIopub = proto.createWriteToIopub;
    proto.createWriteToIopub = function (this: unknown, ...args: unknown[]) {
      const write = createWriteToIopub.apply(this, args);
      if (args[0] !== "stderr" || typeof write !== "function") return write;
      return function (this: unknown, chunk: unknown, ...rest: unknown[]) {
        const run = hooks.current();
        if (run !== undefined && !run.codeRan && run.diagnostics.length < 4000) {
          run.diagnostics += typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
        }
        return (write as AnyFunction).call(this, chunk, ...rest);
      };
    };
  }

  // The kernel swallows what a cell throws or rejects with; see it on the way through.
  const vmModule = require("node:vm") as { runInThisContext: AnyFunction };
  const runInThisContext = vmModule.runInThisContext;
  vmModule.runInThisContext = function labnoteObserveCell(this: unknown, ...args: unknown[]) {
    const code = args[0];
    const run = hooks.current();
    if (run === undefined || typeof code !== "string" || !code.endsWith(CELL_TAIL)) {
      return runInThisContext.apply(this, args);
    }
    run.codeRan = true;
    hooks.fireStart(run);
    let value: unknown;
    try {
      value = runInThisContext.apply(this, args);
    } catch (error) {
      if (hooks.current() === run) {
        run.error = describe(error);
        if (errorCode(error) === SIGINT_CODE) run.interrupted = true;
      }
      throw error;
    }
    if (code.startsWith(ASYNC_CELL_HEAD) && value instanceof Promise) {
      value.then(undefined, (error: unknown) => {
        if (hooks.current() === run && run.error === undefined) run.error = describe(error);
      });
    }
    return value;
  };

  // Not now: a SIGINT listener added while a cell's script runs (under breakOnSigint) leaves the
  // signal at its default action once the script ends, and the next interrupt kills the kernel.
  setImmediate(() => process.on("SIGINT", () => hooks.interrupted()));
  proto[PATCHED] = true;
  inflight?.activate();
}

// -- the cell that was running when the bridge was installed ----------------------------------

interface Inflight {
  activate(): void;
  /**
   * The next cell is about to run (with a client that sends requests ahead, such as JupyterLab's
   * Run All, that can be before this cell's reply went out): end this cell first, if not done.
   */
  beforeNextCell(execCount: unknown): Promise<void>;
}

interface ZmqMessageLike {
  header?: { msg_id?: unknown; msg_type?: unknown };
  parent?: { msg_id?: unknown };
  content?: { code?: unknown; status?: unknown; execution_count?: unknown };
}

/**
 * Best effort: when the bridge is installed from inside a cell, read that cell's request from the
 * closure of `lastWriteDisplayData` (through the in-process inspector), report it as the current
 * cell, hold its execute_reply and idle status until its end callbacks settled, and keep the next
 * cell waiting until then.
 */
function captureInflightCell(kernel: KernelInternals, hooks: Hooks): Inflight | undefined {
  if (!calledFromCell()) return undefined;
  let request: ZmqMessageLike | undefined;
  let probe: HeapProbe | undefined;
  try {
    probe = new HeapProbe();
    request = probe.closureVariable(kernel.jupyter.lastWriteDisplayData, "msg") as ZmqMessageLike | undefined;
  } catch {
    return undefined;
  } finally {
    try {
      probe?.close();
    } catch {
      // nothing to release
    }
  }
  const msgId = request?.header?.msg_id;
  const proto = request === undefined ? undefined : (Object.getPrototypeOf(request) as { signAndSend?: AnyFunction });
  if (request?.header?.msg_type !== "execute_request" || typeof msgId !== "string" || typeof proto?.signAndSend !== "function") {
    return undefined;
  }
  const code = request.content?.code;
  const run = hooks.begin({
    // The count lives in the kernel's handler, which no closure exposes (finding it with the
    // inspector's queryObjects costs over a second); the cell's reply brings it.
    executionCount: 0,
    source: typeof code === "string" ? code : "",
    startTime: Date.now(),
    notebookPath: notebookPath(),
  });
  run.started = true; // its code is running: start callbacks registered now are too late for it
  run.codeRan = true;
  const signAndSend = proto.signAndSend;
  const held: Array<{ message: unknown; args: unknown[] }> = [];
  let replyHeld = false;
  let released = false;
  let ending: Promise<void> | undefined;

  function release(): void {
    released = true;
    if (proto !== undefined && proto.signAndSend === wrapped) proto.signAndSend = signAndSend;
    for (const { message, args } of held.splice(0)) {
      try {
        signAndSend.apply(message, args);
      } catch (error) {
        hooks.report("sending a held kernel message", error);
      }
    }
  }
  /** Ends the cell once, whichever comes first: its reply, or the next cell starting. */
  function finish(ok: boolean): Promise<void> {
    if (ending === undefined) {
      let outcome: CellOutcome;
      try {
        outcome = hooks.outcomeOf(run, ok);
      } catch {
        outcome = { ok, interrupted: run.interrupted, endTime: Date.now() };
      }
      ending = hooks
        .end(run, outcome)
        .catch((error) => hooks.report("ending a cell", error))
        .then(release);
    }
    return ending;
  }
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const message = this as ZmqMessageLike | undefined;
    if (!released) {
      const parent = message?.parent?.msg_id;
      const type = message?.header?.msg_type;
      if (type === "execute_reply" && parent === msgId) {
        replyHeld = true;
        held.push({ message: this, args });
        const count = message?.content?.execution_count;
        if (typeof count === "number" && run.cell.executionCount === 0) run.cell.executionCount = count;
        void finish(message?.content?.status === "ok");
        return undefined;
      }
      if (replyHeld && type === "status" && parent === msgId) {
        held.push({ message: this, args });
        return undefined;
      }
    }
    return signAndSend.apply(this, args);
  };

  return {
    activate() {
      proto.signAndSend = wrapped;
    },
    beforeNextCell(execCount) {
      // The kernel runs the next cell only when this one succeeded (it cancels the queue after a
      // failure), and its handler's count is still this cell's.
      if (typeof execCount === "number" && run.cell.executionCount === 0) run.cell.executionCount = execCount;
      return finish(run.error === undefined && !run.interrupted);
    },
  };
}

/** True when the caller runs inside a cell's execution (synchronously or after its awaits). */
function calledFromCell(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  try {
    return /\bhandleExecuteImpl\b/.test(new Error().stack ?? "");
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Reads what the kernel keeps in closures, through Node's in-process inspector (synchronous for a
 * session in the same thread). Used once, when the bridge is installed.
 */
class HeapProbe {
  private readonly session: import("node:inspector").Session;
  private readonly slot = `__labnoteBridgeProbe${process.pid}_${Date.now()}`;

  constructor() {
    const inspector = require("node:inspector") as typeof import("node:inspector");
    this.session = new inspector.Session();
    this.session.connect();
  }

  /** The value of variable `name` captured by `fn`'s closure, if any. */
  closureVariable(fn: unknown, name: string): unknown {
    if (typeof fn !== "function") return undefined;
    const target = this.remote(fn);
    const own = this.post("Runtime.getProperties", { objectId: target, ownProperties: true });
    const scopes = (own.internalProperties ?? []).find((p: { name: string }) => p.name === "[[Scopes]]");
    if (scopes?.value?.objectId === undefined) return undefined;
    const list = this.post("Runtime.getProperties", { objectId: scopes.value.objectId, ownProperties: true });
    for (const scope of list.result ?? []) {
      if (scope.value?.objectId === undefined) continue;
      const vars = this.post("Runtime.getProperties", { objectId: scope.value.objectId, ownProperties: true });
      const found = (vars.result ?? []).find((v: { name: string }) => v.name === name);
      if (found?.value?.objectId !== undefined) return this.local(found.value.objectId);
    }
    return undefined;
  }

  close(): void {
    delete (globalThis as Record<string, unknown>)[this.slot];
    this.session.disconnect();
  }

  private remote(value: unknown): string {
    const global = globalThis as Record<string, unknown>;
    global[this.slot] = value;
    try {
      const evaluated = this.post("Runtime.evaluate", { expression: `globalThis[${JSON.stringify(this.slot)}]` });
      return evaluated.result.objectId;
    } finally {
      delete global[this.slot];
    }
  }

  private local(objectId: string): unknown {
    const global = globalThis as Record<string, unknown>;
    this.post("Runtime.callFunctionOn", {
      objectId,
      functionDeclaration: `function () { globalThis[${JSON.stringify(this.slot)}] = this; }`,
    });
    try {
      return global[this.slot];
    } finally {
      delete global[this.slot];
    }
  }

  private post(method: string, params: object): any {
    let answer: unknown;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params, (error: Error | null, result: unknown) => {
      failure = error;
      answer = result;
      answered = true;
    });
    if (!answered) throw new Error("the inspector answered asynchronously");
    if (failure !== null) throw failure;
    return answer;
  }
}
