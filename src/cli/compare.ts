/** `labnote compare <run-id> <run-id>…`: config diff, metrics side by side, and how the runs' code differs. */
import { comparisonText, recordJson } from "../protocol";
import { compareRecords } from "../history/compare";
import { findRecord } from "../history/ids";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { ROOT_OPTION, storeRoot } from "./store";

const usage = `Usage: labnote compare <run-id> <run-id>… [--json] [--root DIR]

Compares two or more runs: the config keys whose values differ (and how many are the same),
each metric's last, min and max side by side, and the code of each run against the first's:
which cells differ and how (a line diff of each), cells aligned by their source.

Options:
${ROOT_OPTION}
  --json              the comparison as JSON: { runs, config: { differing, same }, metrics, cells }`;

/** `labnote compare`. */
export const command: Command = {
  name: "compare",
  summary: "compare runs: config diff, metrics side by side, code diff",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { root: "string", json: "boolean" });
    if (positional.length < 2) throw new UsageError(`name two runs or more, e.g. labnote compare mnist/1 mnist/2`);
    const root = storeRoot(flags.root);
    const records = positional.map((id) => findRecord(root, id));
    const c = compareRecords(root, records);
    process.stdout.write(flags.json ? recordJson(c, 2) + "\n" : comparisonText(c) + "\n");
    return 0;
  },
};
