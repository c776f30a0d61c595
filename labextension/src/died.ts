/**
 * Runs the panel saw die with their kernel, shared with the cell renderer (both plugins load
 * this module once), so a card left at "running" by a dead kernel says `died` too.
 */
import { Signal } from "@lumino/signaling";

const ids = new Set<string>();

/** Emits the ids of runs that just died. */
export const runsDied = new Signal<object, string[]>({});

/** Record that these runs died (their kernel died or restarted mid-run). */
export function markDied(list: string[]): void {
  const fresh = list.filter((id) => !ids.has(id));
  if (!fresh.length) return;
  for (const id of fresh) ids.add(id);
  runsDied.emit(fresh);
}

/** Whether the run with this id is known to have died. */
export function hasDied(id: string): boolean {
  return ids.has(id);
}
