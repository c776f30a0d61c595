/** `labnote restore [<run-id>…]`: brings runs back from the store's trash; without ids, lists the trash. */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, didYouMean, formatBytes, textTable } from "../protocol";
import { runDir } from "../history/read";
import { diskUsage, trashedRuns } from "../history/trash";
import { ensureDir } from "../sinks/file/atomic";
import { moveLegacyFolders } from "../sinks/file/legacy";
import { parseArgs } from "./args";
import { type Command } from "./command";
import { formatStart } from "./ls";
import { ROOT_OPTION, storeRoot } from "./store";

const usage = `Usage: labnote restore [<run-id>…] [--root DIR]

Moves runs that labnote rm put in the trash back to their experiment, under the same number.
Without a run id, lists the runs in the trash.

Options:
${ROOT_OPTION}`;

/** `labnote restore`. */
export const command: Command = {
  name: "restore",
  summary: "bring runs back from the trash (without ids: list the trash)",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { root: "string" });
    const root = storeRoot(flags.root);
    moveLegacyFolders(root);
    const trashed = trashedRuns(root);
    if (positional.length === 0) {
      if (trashed.length === 0) {
        console.log("the trash is empty");
        return 0;
      }
      console.log(
        textTable(
          ["run", "name", "status", "started", "size"],
          trashed.map((t) => [t.id, t.record?.name ?? "", t.record?.status ?? "(no record)", t.record ? formatStart(t.record.startTime) : "", formatBytes(diskUsage(t.dir).bytes)]),
        ),
      );
      return 0;
    }
    const byId = new Map(trashed.map((t) => [t.id, t]));
    const chosen = positional.map((id) => {
      const t = byId.get(id);
      if (!t) throw new LabnoteError("NOT_FOUND", `No run ${id} in the trash`, didYouMean(id, [...byId.keys()], "runs in the trash"));
      const dest = runDir(root, t.experiment, t.number);
      if (fs.existsSync(dest)) throw new LabnoteError("UNSUPPORTED", `Cannot restore run ${id}`, `${dest} exists already`);
      return { t, dest };
    });
    for (const { t, dest } of chosen) {
      ensureDir(path.dirname(dest));
      fs.renameSync(t.dir, dest);
      console.log(`restored ${t.id}${t.record?.name ? ` (${t.record.name})` : ""}`);
    }
    return 0;
  },
};
