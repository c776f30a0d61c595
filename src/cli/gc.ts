/**
 * `labnote gc [--dry-run] [--repair] [--force]`: empties the trash and removes the blobs,
 * session logs and snapshots nothing kept refers to (the rules are in src/history/gc.ts),
 * printing what it frees. `--repair` writes the final status `died` into the records of runs
 * whose process is gone — the one command that writes a run.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BLOBS_DIR, formatBytes, isPlainObject, recordJson } from "../protocol";
import { GC_GRACE_MS, planGc, type GcItem, type GcPlan } from "../history/gc";
import { listExperiments, runNumbers } from "../history/read";
import { LAST_REMOVED_FILE, lastRemovedNumber, trashDir } from "../history/trash";
import { writeAtomic } from "../sinks/file/atomic";
import { moveLegacyFolders } from "../sinks/file/legacy";
import { parseArgs } from "./args";
import { type Command } from "./command";
import { Progress } from "./progress";
import { ROOT_OPTION, storeRoot } from "./store";

const usage = `Usage: labnote gc [--dry-run] [--repair] [--force] [--root DIR]

Frees what no kept run needs: empties the trash (labnote rm), and removes the blobs no kept run
or kept session log refers to, the session logs no kept run names whose kernel is gone, and the
snapshots linked to no kept run, and the temporary files (.<name>.<pid>.<n>.tmp) that a
killed process left in run and experiment folders. Files written in the last ${GC_GRACE_MS / 60_000} minutes are kept (a running
kernel may be about to refer to them).

Options:
${ROOT_OPTION}
  --dry-run           print what would be freed and repaired; change nothing
  --repair            also write the final status "died" into the record of every run whose
                      record says running while its process is gone
  --force             free blobs even when a run's record cannot be read (what it refers to is unknown)`;

const LIST = 20;

function total(items: readonly GcItem[]): number {
  return items.reduce((s, x) => s + x.bytes, 0);
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line of what is freed: `3 blobs (1.2 MB)`. */
function part(items: readonly GcItem[], one: string, many?: string): string | undefined {
  return items.length ? `${count(items.length, one, many)} (${formatBytes(total(items))})` : undefined;
}

/** The largest number of each experiment's runs in the trash. */
function lastNumbers(plan: GcPlan): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of plan.trash) {
    const [experiment, n] = [t.name.slice(0, t.name.lastIndexOf("/")), Number(t.name.slice(t.name.lastIndexOf("/") + 1))];
    out.set(experiment, Math.max(out.get(experiment) ?? 0, n));
  }
  return out;
}

/** Write `died` into a record whose process is gone (its end: the last heartbeat). */
function repair(file: string, endTime: number): boolean {
  const raw: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!isPlainObject(raw) || raw.status !== "running") return false;
  raw.status = "died";
  raw.endTime = endTime;
  if (typeof raw.startTime === "number") raw.duration = endTime - raw.startTime;
  writeAtomic(file, recordJson(raw, 2) + "\n");
  return true;
}

function remove(items: readonly GcItem[], progress: Progress): void {
  for (const x of items) {
    fs.rmSync(x.path, { recursive: true, force: true });
    for (const a of x.also ?? []) fs.rmSync(a, { force: true });
    progress.tick();
  }
}

function report(plan: GcPlan, dry: boolean): string[] {
  const out: string[] = [];
  const would = dry ? "would free" : "freed";
  const parts = [part(plan.trash, "run in the trash", "runs in the trash"), part(plan.blobs, "blob"), part(plan.sessions, "session log"), part(plan.snapshots, "snapshot"), part(plan.temps, "temporary file")].filter(Boolean);
  const bytes = total(plan.trash) + total(plan.blobs) + total(plan.sessions) + total(plan.snapshots) + total(plan.temps);
  out.push(parts.length ? `gc: ${would} ${formatBytes(bytes)}: ${parts.join(", ")}` : `gc: nothing to free in ${plan.root}`);
  if (dry) {
    for (const [label, items] of [["run in the trash", plan.trash], ["blob", plan.blobs], ["session log", plan.sessions], ["snapshot", plan.snapshots], ["temporary file", plan.temps]] as const) {
      for (const x of items.slice(0, LIST)) out.push(`  ${label} ${x.name} (${formatBytes(x.bytes)})`);
      if (items.length > LIST) out.push(`  … and ${items.length - LIST} more ${label}s`);
    }
  }
  out.push(`kept: ${count(plan.keptRuns, "run")}, ${count(plan.kept.blobs, "blob")} (${formatBytes(plan.kept.blobBytes)}), ${count(plan.kept.sessions, "session log")}, ${count(plan.kept.snapshots, "snapshot")}`);
  return out;
}

/** `labnote gc`. */
export const command: Command = {
  name: "gc",
  summary: "empty the trash and free blobs, session logs, snapshots no run refers to and killed writes' temporary files (--repair: mark dead runs died)",
  usage,
  run(args) {
    const { flags } = parseArgs(args, { root: "string", "dry-run": "boolean", repair: "boolean", force: "boolean" });
    const root = storeRoot(flags.root);
    const dry = flags["dry-run"] === true;
    if (!dry) moveLegacyFolders(root);
    const runs = listExperiments(root).reduce((n, e) => n + runNumbers(root, e).length, 0);
    const reading = new Progress("gc: reading runs", runs);
    let plan: GcPlan;
    try {
      plan = planGc(root, { force: flags.force === true, onRun: () => reading.tick() });
    } finally {
      reading.end();
    }
    for (const u of plan.unreadable) console.error(`labnote gc: run ${u.id}: ${u.reason}`);
    if (plan.blobsHeld) console.error(`labnote gc: kept every blob: ${count(plan.unreadable.length, "run's record", "runs' records")} cannot be read, so what ${plan.unreadable.length === 1 ? "it refers" : "they refer"} to is unknown (labnote rm ${plan.unreadable.map((u) => u.id).join(" ")}, or pass --force)`);
    if (flags.repair === true) {
      for (const r of plan.repairs) {
        if (dry) console.log(`would repair ${r.id}: running → died (its process is gone)`);
        else if (repair(r.file, r.endTime)) console.log(`repaired ${r.id}: running → died (its process is gone)`);
      }
      if (plan.repairs.length === 0) console.log("no run to repair: every record that says running has a live process");
    } else if (plan.repairs.length) console.error(`labnote gc: ${count(plan.repairs.length, "run")} show${plan.repairs.length === 1 ? "s" : ""} as died but ${plan.repairs.length === 1 ? "its" : "their"} record says running; labnote gc --repair writes died into ${plan.repairs.length === 1 ? "it" : "them"}`);
    if (!dry) {
      const items = [...plan.trash, ...plan.sessions, ...plan.snapshots, ...plan.blobs, ...plan.temps];
      const removing = new Progress("gc: removing", items.length);
      try {
        // The numbers of the runs removed stay taken (see lastRemovedNumber).
        for (const [experiment, last] of lastNumbers(plan)) {
          const file = path.join(trashDir(root, experiment), LAST_REMOVED_FILE);
          if (last > lastRemovedNumber(root, experiment) || !fs.existsSync(file)) writeAtomic(file, `${Math.max(last, lastRemovedNumber(root, experiment))}\n`);
        }
        remove(plan.trash, removing);
        remove(plan.sessions, removing);
        remove(plan.snapshots, removing);
        remove(plan.blobs, removing);
        remove(plan.temps, removing);
      } finally {
        removing.end();
      }
      // Blob folders left empty.
      const blobDir = path.join(root, BLOBS_DIR);
      for (const d of plan.blobs.length ? fs.readdirSync(blobDir) : []) {
        try {
          fs.rmdirSync(path.join(blobDir, d));
        } catch {
          /* not empty */
        }
      }
    }
    for (const line of report(plan, dry)) console.log(line);
    return 0;
  },
};
