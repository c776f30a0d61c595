/**
 * Optional timing of redraws for the benchmarks. Off unless localStorage "labnote:timing" is "1";
 * when on, the last 5,000 durations per name are kept on `window.labnoteTimings`.
 */
const enabled = (() => {
  try {
    return window.localStorage.getItem("labnote:timing") === "1";
  } catch {
    return false;
  }
})();

const LIMIT = 5000;

/** Record one duration in milliseconds under `name`. */
export function recordTiming(name: string, ms: number): void {
  if (!enabled) return;
  const w = window as unknown as { labnoteTimings?: Record<string, number[]> };
  const all = (w.labnoteTimings ??= {});
  const list = (all[name] ??= []);
  list.push(ms);
  if (list.length > LIMIT) list.splice(0, list.length - LIMIT);
}

/** Whether timings are being recorded. */
export const timingEnabled = enabled;
