/**
 * Tee of the process's stdout and stderr: while any sink is registered, every write also
 * goes to the sinks; the person still sees everything. A kernel may replace
 * `process.stdout.write` (tslab does at every cell), so {@link rewrapOutput} wraps again.
 */
type Sink = (stream: "stdout" | "stderr", text: string) => void;

const KEY = Symbol.for("labnote.outputTee");
const MARK = Symbol.for("labnote.outputTee.wrapper");

interface Tee {
  sinks: Set<Sink>;
}

function tee(): Tee {
  const g = globalThis as unknown as Record<symbol, Tee | undefined>;
  return (g[KEY] ??= { sinks: new Set() });
}

function wrap(name: "stdout" | "stderr", state: Tee): void {
  const stream = process[name];
  const current = stream.write as typeof stream.write & { [MARK]?: boolean };
  if (current[MARK]) return;
  const wrapper = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (state.sinks.size > 0) {
      const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk);
      for (const s of state.sinks) {
        try {
          s(name, text);
        } catch {
          /* a sink must never break the program's output */
        }
      }
    }
    return (current as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write & { [MARK]?: boolean };
  wrapper[MARK] = true;
  stream.write = wrapper;
}

/** Wrap stdout and stderr again if something replaced their write functions. */
export function rewrapOutput(): void {
  const t = tee();
  if (t.sinks.size === 0) return;
  wrap("stdout", t);
  wrap("stderr", t);
}

/** Start sending output to `sink`; returns the function that stops it. */
export function captureOutput(sink: Sink): () => void {
  const t = tee();
  t.sinks.add(sink);
  wrap("stdout", t);
  wrap("stderr", t);
  return () => t.sinks.delete(sink);
}
