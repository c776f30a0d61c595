/**
 * A run's status and the one rule that says when a run that its record calls `running` has
 * died. Every reader applies it the same way: the kernel side and the command line know whether
 * the run's process is alive (same host: its pid); the browser knows when the kernel it watched
 * died, and otherwise relies on the heartbeat. Applying the rule never changes the record on disk:
 * a run's final status is written by its own process, or by an explicit repair.
 */

/** Every status a run can have; `died` is derived by readers, never written by a run itself. */
export type RunStatus = "running" | "completed" | "failed" | "interrupted" | "died";

/** The statuses, in the order a person reads them. */
export const RUN_STATUSES: readonly RunStatus[] = ["running", "completed", "failed", "interrupted", "died"];

/** A `running` record whose heartbeat is older than this, with no better knowledge, has died. */
export const STALE_MS = 60_000;

/** What the rule needs of a record. */
export interface StatusFacts {
  status: RunStatus;
  startTime: number;
  heartbeat: number;
  endTime?: number;
  duration?: number;
}

/** What a reader knows beyond the record. */
export interface StatusContext {
  /** The reader's clock (ms since the epoch). */
  now: number;
  /** Whether the run's process is alive, where the reader can know it; undefined when it cannot. */
  alive?: boolean;
}

/**
 * The status a reader shows. A run still `running` on disk has died when its process is known
 * dead, or when nothing is known of the process and its heartbeat is older than {@link STALE_MS}.
 * A died run's end is its last heartbeat.
 * @example
 * const shown = effectiveStatus(record, { now: Date.now(), alive: pidAlive(record.pid) });
 */
export function effectiveStatus(rec: StatusFacts, ctx: StatusContext): { status: RunStatus; endTime?: number; duration?: number } {
  if (rec.status !== "running") return { status: rec.status, endTime: rec.endTime, duration: rec.duration ?? (rec.endTime !== undefined ? rec.endTime - rec.startTime : undefined) };
  const dead = ctx.alive === false || (ctx.alive === undefined && ctx.now - rec.heartbeat > STALE_MS);
  if (!dead) return { status: "running", duration: ctx.now - rec.startTime };
  return { status: "died", endTime: rec.heartbeat, duration: rec.heartbeat - rec.startTime };
}

/**
 * A copy of a record as a reader shows it: status, end time and duration by {@link effectiveStatus}.
 * The input is not changed.
 */
export function withEffectiveStatus<R extends StatusFacts>(rec: R, ctx: StatusContext): R {
  const s = effectiveStatus(rec, ctx);
  if (s.status === rec.status && s.status !== "running") return rec;
  const out = { ...rec, status: s.status };
  if (s.endTime !== undefined) out.endTime = s.endTime;
  if (s.status !== "running" && s.duration !== undefined) out.duration = s.duration;
  return out;
}
