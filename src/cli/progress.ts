/**
 * A progress bar on stderr for long work (gc over thousands of runs, exporting a 10M-point
 * run): drawn only when stderr is a terminal, at most ten times a second, and erased when the
 * work is done; nothing at all when stderr is piped or a file.
 */
import { formatBytes } from "../protocol";

/** Where the bar is drawn: stderr, or any stream with the same two members. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
  columns?: number;
}

/** A progress bar over `total` units of work. */
export class Progress {
  constructor(label: string, total: number, options: { unit?: "items" | "bytes"; stream?: ProgressStream; now?: () => number } = {}) {
    this.label = label;
    this.total = total;
    this.unit = options.unit ?? "items";
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.on = this.stream.isTTY === true && total > 0;
  }

  /** `n` more units done. */
  tick(n = 1): void {
    this.done += n;
    if (!this.on) return;
    const t = this.now();
    if (t - this.drawn < 100 && this.done < this.total) return;
    this.drawn = t;
    const frac = Math.min(1, this.done / this.total);
    const count = this.unit === "bytes" ? `${formatBytes(this.done)} / ${formatBytes(this.total)}` : `${this.done} / ${this.total}`;
    const columns = this.stream.columns || 80;
    // The bar gives way on a narrow terminal; the numbers stay whole.
    const width = Math.max(5, Math.min(24, columns - 1 - `${this.label} [] 100% ${count}`.length));
    const full = Math.round(frac * width);
    const line = `${this.label} [${"#".repeat(full)}${"-".repeat(width - full)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${count}`;
    this.stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    this.shown = true;
  }

  /**
   * Print a line while the bar may be drawn: the bar is erased first and drawn again at the next
   * tick, so that lines and bar never share a row. `out` is stdout (default) or stderr.
   */
  say(line: string, out: "stdout" | "stderr" = "stdout"): void {
    this.end();
    this.drawn = -Infinity;
    (out === "stdout" ? console.log : console.error)(line);
  }

  /** The work is over: erase the bar. */
  end(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }

  private readonly label: string;
  private readonly total: number;
  private readonly unit: "items" | "bytes";
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly on: boolean;
  private done = 0;
  private drawn = -Infinity;
  private shown = false;
}
