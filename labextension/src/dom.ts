/**
 * Small DOM and formatting helpers. Text is only ever set through textContent and attributes
 * through setAttribute on a fixed list, so nothing from the kernel or the disk becomes markup.
 */
import type { RunStatus } from "./protocol";

export interface Attrs {
  class?: string;
  text?: string;
  title?: string;
  [attr: string]: string | undefined;
}

/** Create an element with a class, text and plain attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

/** Set text only when it changed (keeps selection and avoids layout work on every update). */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A number for people: up to 4 significant digits, exponent for very large or small values. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "∞";
  if (x === -Infinity) return "-∞";
  if (Number.isInteger(x) && Math.abs(x) < 1e7) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/** A duration in milliseconds as `1h 02m`, `3m 05s`, `4.2s`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  const hrs = Math.floor(m / 60);
  return `${hrs}h ${String(m % 60).padStart(2, "0")}m`;
}

/** Bytes as `512 B`, `1.2 kB`, `3.4 MB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "–";
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A start time as a short local date and time. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "–";
  const d = new Date(ms);
  const today = new Date();
  const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${time}`;
}

/** A status badge element. */
export function badge(status: RunStatus | string): HTMLSpanElement {
  const el = h("span", { class: "jp-labnote-badge" });
  setBadge(el, status);
  return el;
}

/** Update a badge in place. */
export function setBadge(el: HTMLElement, status: RunStatus | string): void {
  const cls = `jp-labnote-badge jp-labnote-status-${/^[a-z]+$/.test(status) ? status : "unknown"}`;
  if (el.className !== cls) el.className = cls;
  setText(el, status);
}

/** Show `value` (JSON text of a config value) compactly. */
export function formatConfigValue(json: string): string {
  try {
    const v = JSON.parse(json);
    if (typeof v === "string") return v;
    if (typeof v === "number") return formatNumber(v);
    return JSON.stringify(v);
  } catch {
    return json;
  }
}
