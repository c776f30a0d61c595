/**
 * `labnote runs`: the earlier name of `labnote ls`, with its options kept
 * (`--experiment NAME`, `--format table|csv|json`, `--all-columns`).
 */
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { listRuns } from "./ls";
import { ROOT_OPTION } from "./store";

const usage = `Usage: labnote runs [experiment] [--experiment NAME] [--format table|csv|json] [--filter EXPR] [--all-columns] [--root DIR]

The same as labnote ls (see labnote ls --help); --experiment NAME and --format are its
earlier spellings of the experiment argument and of --csv / --json.

Options:
${ROOT_OPTION}
  --experiment NAME   one experiment
  --format FORMAT     table (default), csv or json
  --filter EXPR       only the runs that match (labnote ls --help)
  --all-columns       every config key and metric, not only what varies`;

/** `labnote runs`: an alias of `labnote ls`. */
export const command: Command = {
  name: "runs",
  summary: "the same as ls (its earlier name)",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { root: "string", experiment: "string", format: "string", filter: "string", "all-columns": "boolean" });
    const format = (flags.format as string | undefined) ?? "table";
    if (format !== "table" && format !== "csv" && format !== "json") throw new UsageError(`--format must be table, csv or json, not "${format}"`);
    if (positional.length > 1) throw new UsageError(`unexpected argument "${positional[1]}"`);
    if (positional.length && flags.experiment !== undefined) throw new UsageError("name the experiment once (as an argument or with --experiment)");
    const experiment = (flags.experiment as string | undefined) ?? positional[0];
    return listRuns({ root: flags.root as string | undefined, experiment, filter: flags.filter as string | undefined, format, all: flags["all-columns"] === true });
  },
};
