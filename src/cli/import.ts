/**
 * `labnote import --from mlflow <experiment>`: an MLflow experiment's runs into the store as
 * labnote runs (params as config, every metric point with its step and time, tags, status,
 * times), so that the panel and the command line show a team's server runs beside local ones.
 * Importing again adds only the runs not imported yet.
 */
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { Progress } from "./progress";
import { ROOT_OPTION, storeRoot } from "./store";
import { connection, MlflowClient } from "../sinks/mlflow/client";
import { importFromMlflow } from "../sinks/mlflow/import";
import { FileStore } from "../sinks/file/store";
import { whenWritten } from "../sinks/file/writer";

const usage = `Usage: labnote import --from mlflow <experiment> [--tracking-uri URL] [--into NAME] [--root DIR]

Brings the runs of an MLflow experiment into the store as labnote runs, oldest first:
  params   → the run's config (dotted keys nested; "0.1", "true", "[1,2]" read as JSON values,
             anything else kept as text)
  metrics  → every point with its step and time (±1.797e308, MLflow's stored infinity, as ±Infinity)
  tags     → the run's tags (key, or key:value; MLflow's own mlflow.* tags are kept in the record)
  status   → FINISHED completed, FAILED failed, KILLED interrupted, RUNNING running
  times    → start and end time
Each run's record says where it came from (metadata.mlflow: tracking URI, experiment, MLflow run
id, status and tags). Importing again adds only runs not imported yet; a run that labnote itself
exported to MLflow and that the store still holds is skipped, and said so. Artifacts stay in
MLflow (metadata.mlflow.artifactUri names them).

Options:
  --from mlflow       where the runs come from (MLflow is the one source for now)
  --tracking-uri URL  the MLflow server (default: $MLFLOW_TRACKING_URI); credentials come from
                      MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and _PASSWORD
  --into NAME         the labnote experiment to import into (default: the MLflow experiment's name)
${ROOT_OPTION}`;

/** `labnote import`: an MLflow experiment's runs into the store. */
export const command: Command = {
  name: "import",
  summary: "bring an MLflow experiment's runs into the store (importing again adds only new runs)",
  usage,
  async run(args) {
    const { flags, positional } = parseArgs(args, { from: "string", "tracking-uri": "string", into: "string", root: "string" });
    if (flags.from === undefined) throw new UsageError("say where the runs come from: --from mlflow");
    if (flags.from !== "mlflow") throw new UsageError(`--from must be mlflow, not "${String(flags.from)}"`);
    if (positional.length === 0) throw new UsageError("name the MLflow experiment to import, e.g. labnote import --from mlflow mnist");
    if (positional.length > 1) throw new UsageError(`unexpected argument "${positional[1]}" (import one experiment at a time)`);
    const uri = flags["tracking-uri"] as string | undefined;
    if (uri === undefined && !process.env.MLFLOW_TRACKING_URI?.trim())
      throw new UsageError("--from mlflow reads the server named by --tracking-uri URL or MLFLOW_TRACKING_URI; neither is set (e.g. --tracking-uri http://127.0.0.1:5000)");
    const root = storeRoot(flags.root);
    const client = new MlflowClient(connection(uri));
    let progress: Progress | undefined;
    const result = await importFromMlflow(client, new FileStore(root), positional[0], {
      into: flags.into as string | undefined,
      onRuns: (n) => (progress = new Progress("import", n)),
      onRun: () => progress?.tick(),
    }).finally(() => progress?.end());
    await whenWritten();
    let imported = 0;
    for (const r of result.runs) {
      if (r.outcome === "skipped") console.log(`MLflow run ${r.runId} "${r.name}": skipped, ${r.reason}`);
      else {
        imported++;
        console.log(`MLflow run ${r.runId} "${r.name}" → ${r.id} (${r.points.toLocaleString("en-US")} points)`);
      }
    }
    const skipped = result.runs.length - imported;
    console.log(
      result.runs.length === 0
        ? `The MLflow experiment "${positional[0]}" has no runs.`
        : `Imported ${imported} of ${result.runs.length} run${result.runs.length === 1 ? "" : "s"} into ${result.experiment} under ${root}${skipped ? ` (${skipped} skipped)` : ""}.`,
    );
    return 0;
  },
};
