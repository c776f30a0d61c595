/**
 * A sweep in MLflow: one parent run, whose children are the sweep's trials (each trial's run
 * carries the tag `mlflow.parentRunId`, so MLflow's UI nests them). The parent is sent by the
 * same delivery as a run, from what the sweep's record says:
 * - its name: the sweep's name, else `sweep-<number>`;
 * - params: the space, flattened as a run's config is (`lr` = `[0.1,0.01]`, `lr.random` =
 *   `log-uniform`, …), and `sweep.strategy`, `sweep.seed`, `sweep.metric`, `sweep.goal`;
 * - tags: `labnote.sweep_id` (its id, `<experiment>/sweep-<n>`), `labnote.sweep.trials` (the
 *   plan's size) and the usual `labnote.*` tags of a run;
 * - metrics, one point per finished trial (step = trials finished so far): `best_<metric>` (the
 *   best value so far), `trials_done` and `trials_failed`;
 * - its status: completed → FINISHED, failed → FAILED, interrupted (or its process gone) → KILLED.
 * Its outbox is `<n>.mlflow.json` beside the sweep's record in `_sweeps/`.
 */
import { flattenConfig, sweepTag, trialValue, type RunRecord, type RunStatus, type SweepRecord } from "../../protocol";
import { processAlive } from "../../history/read";
import type { PointsView, RunSource } from "./delivery";
import type { OutboxFiles } from "./outbox";

/** The tag that holds labnote's sweep id on the parent run. */
export const SWEEP_ID_TAG = "labnote.sweep_id";

/** The sweep's outbox and lock, beside its record in `_sweeps/`. */
export function sweepFiles(number: number): OutboxFiles {
  return { outbox: `${number}.mlflow.json`, lock: `${number}.mlflow.lock` };
}

/** The number of the sweep whose outbox is `name` in `_sweeps/`, or undefined. */
export function sweepOutboxNumber(name: string): number | undefined {
  const m = /^([1-9]\d*)\.mlflow\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The MLflow metric of the best value so far. */
export function bestMetric(rec: Pick<SweepRecord, "metric">): string {
  return `best_${rec.metric ?? "value"}`;
}

/** The parent run's params: the space flattened, and the sweep's settings. */
export function sweepParams(rec: SweepRecord): Record<string, unknown> {
  const out = flattenConfig(rec.space);
  const settings: Record<string, unknown> = { "sweep.strategy": rec.strategy, "sweep.seed": rec.seed, "sweep.goal": rec.goal };
  if (rec.metric !== null) settings["sweep.metric"] = rec.metric;
  // A key of the space keeps its name; a setting of the same name is left to the tags.
  for (const [k, v] of Object.entries(settings)) if (!(k in out)) out[k] = v;
  return out;
}

interface Series {
  steps: number[];
  values: number[];
  times: number[];
}

/** The parent's metrics from the trials that finished, in the order they started (a list that only grows). */
function sweepSeries(rec: SweepRecord): Map<string, Series> {
  const best: Series = { steps: [], values: [], times: [] };
  const done: Series = { steps: [], values: [], times: [] };
  const failed: Series = { steps: [], values: [], times: [] };
  let top: number | undefined;
  let fails = 0;
  let k = 0;
  for (const t of rec.runs) {
    if (t.status === "running") continue;
    k++;
    const time = Math.round(t.endTime ?? t.startTime);
    if (t.status === "failed") fails++;
    const v = trialValue(t);
    if (t.status === "completed" && Number.isFinite(v) && (top === undefined || (rec.goal === "max" ? v > top : v < top))) top = v;
    if (top !== undefined) {
      best.steps.push(k);
      best.values.push(top);
      best.times.push(time);
    }
    done.steps.push(k);
    done.values.push(k);
    done.times.push(time);
    failed.steps.push(k);
    failed.values.push(fails);
    failed.times.push(time);
  }
  const out = new Map<string, Series>();
  if (best.steps.length) out.set(bestMetric(rec), best);
  if (k) {
    out.set("trials_done", done);
    out.set("trials_failed", failed);
  }
  return out;
}

/**
 * A sweep as a delivery reads it: the live sweep of this process (its record as it stands), or
 * a sweep of the store (its record on disk; one left `running` by a process that is gone counts
 * as died, KILLED in MLflow).
 */
export class SweepSource implements RunSource {
  readonly root = undefined;
  readonly idTag = SWEEP_ID_TAG;
  readonly files: OutboxFiles;

  constructor(
    /** The folder of the experiment's sweep records, undefined for a ghost experiment. */
    readonly dir: string | undefined,
    number: number,
    private read: () => SweepRecord,
    private readonly live: boolean,
  ) {
    this.files = sweepFiles(number);
  }

  /** Read the sweep from elsewhere from now on (the same sweep, resumed by another call). */
  use(read: () => SweepRecord): void {
    this.read = read;
  }

  /** The sweep's status as a run's. */
  status(): RunStatus {
    const rec = this.read();
    if (rec.status !== "running") return rec.status;
    return !this.live && processAlive(rec) === false ? "died" : "running";
  }

  record(): RunRecord {
    const s = this.read();
    const status = this.status();
    const rec: RunRecord = {
      format: 1,
      id: s.id,
      experiment: s.experiment,
      number: s.number,
      name: s.name ?? sweepTag(s.number),
      status,
      tags: [],
      startTime: s.startTime,
      heartbeat: s.updated,
      pid: s.pid,
      hostname: s.hostname,
      config: sweepParams(s),
      modified: [],
      added: [],
      named: [],
      seed: s.seed,
      metrics: {},
      histograms: [],
      artifacts: [],
      resources: [],
      cells: [],
      metadata: {},
    };
    if (status !== "running") rec.endTime = s.endTime ?? s.updated;
    return rec;
  }

  env(): ReturnType<RunSource["env"]> {
    return {};
  }

  metricNames(): string[] {
    return [...this.series().keys()];
  }

  available(name: string): number {
    return this.series().get(name)?.steps.length ?? 0;
  }

  points(name: string): PointsView | undefined {
    const s = this.series().get(name);
    return s && { step: (i) => s.steps[i], value: (i) => s.values[i], time: (i) => s.times[i] };
  }

  ended(): boolean {
    return this.status() !== "running";
  }

  artifacts(): RunRecord["artifacts"] {
    return [];
  }

  extraTags(): { key: string; value: string }[] {
    const s = this.read();
    const tags = [
      { key: "labnote.sweep.strategy", value: s.strategy },
      { key: "labnote.sweep.trials", value: String(s.total) },
      { key: "labnote.sweep.goal", value: s.goal },
    ];
    if (s.metric !== null) tags.push({ key: "labnote.sweep.metric", value: s.metric });
    if (s.name !== null) tags.push({ key: "labnote.sweep.name", value: s.name });
    return tags;
  }

  private series(): Map<string, Series> {
    const rec = this.read();
    let finished = 0;
    for (const t of rec.runs) if (t.status !== "running") finished++;
    const key = `${finished}\0${rec.metric}\0${rec.goal}`;
    if (this.cache?.key !== key) this.cache = { key, series: sweepSeries(rec) };
    return this.cache.series;
  }

  private cache: { key: string; series: Map<string, Series> } | undefined;
}
