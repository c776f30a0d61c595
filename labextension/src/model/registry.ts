/**
 * The latest word on each run, by run id, shared by every card on the page and the panel (both
 * plugins load this module once). Live updates are routed by run id, not by display id: outputs
 * restored from a saved notebook have lost their display ids, yet their cards still hear their
 * run. A card that shows a run another run re-ran (same cell, same name: `rerunOf`) follows the
 * newer run, so the cell's card shows the cell's current run.
 */
import type { ParsedRecord, RunPayload } from "../protocol";

/** Called with a run's newer payload. */
export type RunListener = (payload: RunPayload) => void;

/** Reads a run.json at a path relative to the server root (the panel plugin provides one). */
export type RecordReader = (path: string) => Promise<ParsedRecord | undefined>;

/**
 * Whether payload `b` says something newer than `a` about the same run: a later message, or an
 * end where `a` still says running (an end, once known, is never undone by a message saying
 * running), or a written end where `a` was only inferred `died`.
 */
export function isNewer(a: RunPayload | undefined, b: RunPayload): boolean {
  if (!a) return true;
  if (a.status !== "running" && b.status === "running") return false;
  if (a.status === "running" && b.status !== "running") return true;
  // `died` is a reader's inference; a status the run's own process wrote is better knowledge.
  if (a.status === "died" && b.status !== "died") return true;
  if (b.status === "died" && a.status !== "died") return false;
  return b.sentAt > a.sentAt || (b.sentAt === a.sentAt && b.status !== a.status);
}

/** Payloads by run id, and who listens to which run. */
export class RunRegistry {
  /** The newest payload known for `id`. */
  latest(id: string): RunPayload | undefined {
    return this._latest.get(id);
  }

  /** The newest run that re-ran `id`, if any is known. */
  rerunOf(id: string): RunPayload | undefined {
    const next = this._reruns.get(id);
    return next ? this._latest.get(next) : undefined;
  }

  /** Take a payload from any source; listeners of its run (and of the run it re-ran) hear it when it is newer. */
  publish(p: RunPayload): void {
    if (!isNewer(this._latest.get(p.id), p)) return;
    this._latest.set(p.id, p);
    if (p.rerunOf && p.rerunOf !== p.id) this._reruns.set(p.rerunOf, p.id);
    for (const id of p.rerunOf ? [p.id, p.rerunOf] : [p.id]) for (const cb of [...(this._listeners.get(id) ?? [])]) cb(p);
  }

  /** Listen to one run (and to runs that re-run it); returns the function that stops listening. */
  listen(id: string, cb: RunListener): () => void {
    let set = this._listeners.get(id);
    if (!set) this._listeners.set(id, (set = new Set()));
    set.add(cb);
    return () => {
      set!.delete(cb);
      if (!set!.size) this._listeners.delete(id);
    };
  }

  /** Set by the panel plugin, which holds the contents manager; cards ask through it. */
  set reader(reader: RecordReader | undefined) {
    this._reader = reader;
  }

  get reader(): RecordReader | undefined {
    return this._reader;
  }

  /** Record that the kernel running `id` was seen to die or restart: its process is gone. */
  markDead(id: string): void {
    this._dead.add(id);
  }

  /** Whether the process of run `id` is known to be gone. */
  isDead(id: string): boolean {
    return this._dead.has(id);
  }

  private _latest = new Map<string, RunPayload>();
  private _reruns = new Map<string, string>();
  private _listeners = new Map<string, Set<RunListener>>();
  private _dead = new Set<string>();
  private _reader: RecordReader | undefined;
}

/** The page's one registry. */
export const runRegistry = new RunRegistry();
