/**
 * The clock metric points are stamped with. `Date.now()` costs 45–90 ns on some machines (a
 * system call where the clock is virtualized), which is most of a `run.log` call; a small
 * thread keeps the time in shared memory instead, so reading it costs a memory load.
 *
 * - The ticker thread writes `Date.now()` to {@link CLOCK}`[0]` about every millisecond while
 *   points are being logged, and parks (writing NaN there) after 200 ms without a reader, so an
 *   idle kernel with a run open costs nothing.
 * - A reader ({@link PointClock}) takes the real clock every 64th point, and whenever the shared
 *   time is NaN (parked, or no thread): a point's time is never earlier than the last real
 *   reading, and is at most about a millisecond behind `Date.now()` when the ticker runs on time
 *   (the few points logged while it waits for a core can be some milliseconds behind).
 * - Where worker threads are unavailable, every point reads `Date.now()`, as before.
 */
import { Worker } from "node:worker_threads";

// [0] 1 while ticking, 0 parked; [1] readers' activity, bumped on each real reading; [2] a slot
// the ticker sleeps on between ticks.
const control = new Int32Array(new SharedArrayBuffer(12));

/** Milliseconds since the epoch as of the last tick, or NaN when the ticker is parked or absent. */
export const CLOCK: Float64Array = new Float64Array(new SharedArrayBuffer(8)).fill(NaN);

const TICKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const control = new Int32Array(workerData.control);
const clock = new Float64Array(workerData.clock);
const IDLE_MS = 200;
let seen = Atomics.load(control, 1);
let activeAt = Date.now();
for (;;) {
  if (Atomics.load(control, 0) === 0) {
    clock[0] = NaN;
    Atomics.wait(control, 0, 0);
    activeAt = Date.now();
  }
  const t = Date.now();
  clock[0] = t;
  const a = Atomics.load(control, 1);
  if (a !== seen) {
    seen = a;
    activeAt = t;
  } else if (t - activeAt > IDLE_MS) {
    clock[0] = NaN;
    // A reader that woke the ticker in between keeps it going.
    if (Atomics.compareExchange(control, 0, 1, 0) === 1) continue;
  }
  Atomics.wait(control, 2, 0, 1);
}
`;

let ticker: Worker | undefined;
let unavailable = false;

function startTicker(): void {
  try {
    ticker = new Worker(TICKER_SOURCE, { eval: true, workerData: { control: control.buffer, clock: CLOCK.buffer } });
    ticker.on("error", () => {
      unavailable = true;
      CLOCK[0] = NaN;
    });
    ticker.on("exit", () => {
      unavailable = true;
      CLOCK[0] = NaN;
    });
    // It must never keep the process alive.
    ticker.unref();
  } catch {
    unavailable = true;
  }
}

/** The real clock, read by a point clock every 64th point: it also keeps the ticker going (or wakes it). */
function readRealClock(): number {
  const t = Date.now();
  if (unavailable) return t;
  if (ticker === undefined) startTicker();
  Atomics.add(control, 1, 1);
  if (Atomics.compareExchange(control, 0, 0, 1) === 0) {
    // The ticker was parked: the shared time is NaN until its first tick, so readers keep
    // taking the real clock until then.
    Atomics.notify(control, 0);
  }
  return t;
}

/** How many points a point clock stamps from the shared time between two real readings. */
const REAL_EVERY = 64;

/**
 * The time for each logged point of one run: `now()` is a shared-memory load on most calls.
 * Held by the run's metrics; small enough for the compiler to inline into a logging loop.
 */
export class PointClock {
  now(): number {
    let t = CLOCK[0];
    if (--this.countdown < 0 || t !== t) return this.real();
    // The ticker may lag a little behind the last real reading: never go back in time.
    if (t < this.floor) t = this.floor;
    return t;
  }

  private real(): number {
    const t = readRealClock();
    this.countdown = REAL_EVERY - 1;
    this.floor = t;
    return t;
  }

  private countdown = 0;
  private floor = 0;
}
