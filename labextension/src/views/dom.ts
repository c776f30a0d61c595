/**
 * Small DOM helpers. Text is only ever set through textContent and attributes through
 * setAttribute, so nothing from the kernel or the disk becomes markup. Numbers, durations and
 * sizes are formatted by the protocol's rules (the same on every screen); only clock times are
 * the browser's own.
 */
import { configValueText, type RunStatus } from "../protocol";

/** Attributes for {@link h}: a class, text content, and plain attributes. */
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

/** A config value sent as JSON text, shown as the protocol's one rule shows config values. */
export function configText(json: string): string {
  try {
    return configValueText(JSON.parse(json));
  } catch {
    return json;
  }
}
