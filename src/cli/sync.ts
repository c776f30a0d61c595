/**
 * `labnote sync`: sends to MLflow what runs left undelivered (their process died, or the server
 * was down until they ended), from each run's outbox (`mlflow.json`) and the store, and sets
 * their final status there (a run that died → KILLED).
 */
import * as path from "node:path";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { mlflowStatus } from "../sinks/mlflow/rules";
import { deliverLeftovers, type Leftover } from "../sinks/mlflow/stored";
import { defaultRoot } from "../history/paths";
import { listExperiments } from "../history/read";

const usage = `Usage: labnote sync [--root DIR] [--experiment NAME] [--tracking-uri URL] [--timeout SECONDS]

Sends to the MLflow tracking server what runs of the store have not delivered yet (a kernel that
died, a server that was down), from where each run's mlflow.json says the server stopped, and
sets each run's final status there (completed → FINISHED, failed → FAILED, interrupted and
died → KILLED). A sweep's parent run goes first, and its trials are nested under it
(mlflow.parentRunId). Runs still running are left to their own process. Credentials come from
MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.

Options:
  --root DIR           store root (default: $LABNOTE_DIR or ./experiments)
  --experiment NAME    one experiment (default: every experiment under the root)
  --tracking-uri URL   send to this server instead of the one each run was streaming to
                       (a run new to that server is sent whole)
  --timeout SECONDS    give up waiting for a server that does not answer after this long (default 120)

Exit code: 0 when every run was delivered (or none was owed), 1 when some are still owed.`;

export const command: Command = {
  name: "sync",
  summary: "send to MLflow what runs left undelivered (a died kernel, a server that was down)",
  usage,
  async run(args) {
    const { flags, positional } = parseArgs(args, { root: "string", experiment: "string", "tracking-uri": "string", timeout: "string" });
    if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const root = path.resolve(typeof flags.root === "string" ? flags.root : defaultRoot());
    const timeout = flags.timeout === undefined ? 120 : Number(flags.timeout);
    if (!(timeout > 0)) throw new UsageError(`--timeout must be a number of seconds > 0, not "${String(flags.timeout)}"`);
    const experiments = typeof flags.experiment === "string" ? [flags.experiment] : listExperiments(root);
    const trackingUri = typeof flags["tracking-uri"] === "string" ? flags["tracking-uri"] : undefined;
    const say = (m: string) => console.error(m);
    const all: Leftover[] = [];
    for (const name of experiments) all.push(...deliverLeftovers(root, name, { trackingUri, say }));
    if (all.length === 0) {
      console.log(`Nothing to send: every run under ${root} that streams to MLflow is delivered.`);
      return 0;
    }
    const sending = all.filter((l) => l.delivery !== undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(sending.map((l) => l.delivery!.done)),
      new Promise<void>((r) => (timer = setTimeout(r, timeout * 1000))),
    ]);
    clearTimeout(timer);
    let owed = 0;
    for (const l of all) {
      if (l.delivery === undefined) {
        console.log(`${l.id}: skipped, ${l.skip}`);
        continue;
      }
      const d = l.delivery;
      d.stop();
      const b = d.box;
      const points = Object.values(b.metrics).reduce((a, n) => a + n, 0);
      if (b.done) {
        const status = mlflowStatus(d.source.record().status);
        console.log(`${l.id}: in MLflow as run ${b.runId} of experiment "${b.experimentName}" (${status}), ${points.toLocaleString("en-US")} points${b.refused ? ` (${b.refused.toLocaleString("en-US")} refused by the server)` : ""}`);
      } else {
        owed++;
        console.log(`${l.id}: not delivered yet (${points.toLocaleString("en-US")} points so far); its outbox stays in ${l.file}`);
      }
    }
    return owed ? 1 : 0;
  },
};
