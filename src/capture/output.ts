/**
 * Tee of the process's stdout and stderr: while any sink is registered, every write also
 * goes to the sinks; the person still sees everything. Installed once per process.
 */
type Sink = (stream: "stdout" | "stderr", text: string) => void;

const KEY = Symbol.for("labnote.outputTee");

interface Tee {
  sinks: Set<Sink>;
}

function tee(): Tee {
  const g = globalThis as unknown as Record<symbol, Tee | undefined>;
  let t = g[KEY];
  if (t) return t;
  t = { sinks: new Set() };
  g[KEY] = t;
  const state = t;
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      if (state.sinks.size > 0) {
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk);
        for (const s of state.sinks) {
          try {
            s(name, text);
          } catch {
            /* a sink must never break the program's output */
          }
        }
      }
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  }
  return t;
}

/** Start sending output to `sink`; returns the function that stops it. */
export function captureOutput(sink: Sink): () => void {
  const t = tee();
  t.sinks.add(sink);
  return () => t.sinks.delete(sink);
}
