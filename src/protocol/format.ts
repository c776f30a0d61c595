/**
 * How numbers, durations and sizes read to a person: one set of rules for the run card, its
 * HTML and text fallbacks, the panel and the command line, so that a value looks the same on
 * every screen.
 */
import { fromWire, type WireNumber } from "./numbers";

/**
 * A number for people: whole numbers in full (up to 15 digits), others to 4 significant digits,
 * an exponent for very small or very large values; NaN and ±∞ spelled out.
 * @example formatNumber(12345678) // "12345678"; formatNumber(0.000012) // "1.200e-5"; formatNumber(-Infinity) // "-∞"
 */
export function formatNumber(x: number | WireNumber | null | undefined): string {
  if (x === null || x === undefined) return "";
  const v = typeof x === "number" ? x : fromWire(x);
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "∞";
  if (v === -Infinity) return "-∞";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/**
 * A duration in milliseconds for people: `0.35 s`, `4.2 s`, `42 s`, `3 min 05 s`, `1 h 02 min`; `–` when unknown.
 * @example formatDuration(4200) // "4.2 s"
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  const s = ms / 1000;
  if (s < 1) return `${s.toFixed(2)} s`;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s - m * 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/**
 * A size in bytes for people: `512 B`, `1.2 kB`, `3.4 MB`.
 * @example formatBytes(1234) // "1.2 kB"
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "–";
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
