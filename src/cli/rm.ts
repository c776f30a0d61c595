/**
 * `labnote rm <run-id>…`: moves runs into the store's trash (`<root>/_labnote/trash/<experiment>/<number>`),
 * where `labnote restore` finds them again and `labnote gc` empties them. A running run whose
 * process is alive is refused.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, formatBytes, trashPath } from "../protocol";
import { findRun, type FoundRun } from "../history/ids";
import { processAlive } from "../history/read";
import { diskUsage } from "../history/trash";
import { ensureDir } from "../sinks/file/atomic";
import { moveLegacyFolders } from "../sinks/file/legacy";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { ROOT_OPTION, storeRoot } from "./store";

const usage = `Usage: labnote rm <run-id>… [--root DIR]

Moves runs into the store's trash (<root>/_labnote/trash/). They leave labnote ls and the panel at once;
labnote restore <run-id> brings one back; labnote gc empties the trash and frees the blobs,
session logs and snapshots nothing else refers to. A run still running is refused.

Options:
${ROOT_OPTION}`;

/** Why a run cannot be moved now, or undefined. */
function stillRunning(run: FoundRun): string | undefined {
  if (!run.record.ok || run.record.record.status !== "running") return undefined;
  const rec = run.record.record;
  const alive = processAlive(rec);
  if (alive === true) return `run ${run.id} is running (process ${rec.pid} on ${rec.hostname} is alive); end it (or stop its kernel) first`;
  return `run ${run.id} may still be running on ${rec.hostname || "another host"} (its heartbeat is recent); end it first, or wait until it shows as died`;
}

/** `labnote rm`. */
export const command: Command = {
  name: "rm",
  summary: "move runs to the store's trash (labnote restore brings them back)",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { root: "string" });
    if (positional.length === 0) throw new UsageError("name the runs to remove, e.g. labnote rm mnist/3 mnist/4");
    const root = storeRoot(flags.root);
    moveLegacyFolders(root);
    // Every id is checked before anything moves: a typo in the third id leaves the first two alone.
    const runs = [...new Map(positional.map((id) => findRun(root, id)).map((r) => [r.id, r])).values()];
    for (const r of runs) {
      const why = stillRunning(r);
      if (why) throw new LabnoteError("UNSUPPORTED", "Cannot remove a running run", why);
      if (fs.existsSync(path.join(root, trashPath(r.experiment, r.number))))
        throw new LabnoteError("UNSUPPORTED", `Cannot move run ${r.id} to the trash`, "the trash already holds a run of that number; run labnote gc to empty the trash first");
    }
    for (const r of runs) {
      const bytes = diskUsage(r.dir).bytes;
      const dest = path.join(root, trashPath(r.experiment, r.number));
      ensureDir(path.dirname(dest));
      fs.renameSync(r.dir, dest);
      const what = r.record.ok ? `${r.record.record.name ? `${r.record.record.name}, ` : ""}${r.record.record.status}, ` : "";
      console.log(`moved ${r.id} (${what}${formatBytes(bytes)}) to the trash`);
    }
    console.log(`labnote restore ${runs.map((r) => r.id).join(" ")} brings ${runs.length === 1 ? "it" : "them"} back; labnote gc empties the trash`);
    return 0;
  },
};
