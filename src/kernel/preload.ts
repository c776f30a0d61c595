/**
 * Loaded with the tslab kernel (`node --require`, through `NODE_OPTIONS` in the kernel spec that
 * `labnote install` writes), before any cell runs: once tslab has set itself up, it starts the
 * session log in memory, so that the log holds the session from its first cell. Silent until
 * used: it prints nothing and writes nothing (the log is written only once a run starts), and
 * outside a tslab kernel it does nothing at all.
 */
import { getBridge } from "./bridge";
import { startSessionLog } from "./session";
import { preloadOption } from "../protocol";

/** Drop this preload from NODE_OPTIONS, so that processes the kernel starts do not load it. */
function forgetPreload(): void {
  const opts = process.env.NODE_OPTIONS;
  if (opts === undefined) return;
  const kept = opts.replace(preloadOption(__filename), "").trim();
  if (kept === "") delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = kept;
}

function whenTslabIsReady(then: () => void): void {
  const g = globalThis as Record<string, unknown>;
  if (g.__tslab__ !== undefined) {
    setImmediate(then);
    return;
  }
  // tslab sets globalThis.__tslab__ once, while it builds its executor, before the kernel
  // listens for requests: the bridge can hook the kernel right after.
  Object.defineProperty(g, "__tslab__", {
    configurable: true,
    enumerable: false,
    get: () => undefined,
    set(value: unknown) {
      Object.defineProperty(g, "__tslab__", { value, writable: true, configurable: true, enumerable: true });
      setImmediate(then);
    },
  });
}

if (process.env.LABNOTE_PRELOAD !== "0") {
  forgetPreload();
  whenTslabIsReady(() => {
    try {
      const bridge = getBridge();
      if (bridge) startSessionLog(bridge, "kernel");
    } catch {
      // Never disturb the kernel: labnote's import starts the log later ("from": "import").
    }
  });
}
