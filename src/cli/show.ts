/**
 * `labnote show <run-id>`: everything the history knows of one run — its config (modified
 * keys marked), metric summaries, artifacts, where it came from (host, git, notebook,
 * snapshots) and its code (the lineage, or the cells that ran while it was open) with sources.
 */
import * as path from "node:path";
import { configEntries, formatBytes, formatDuration, formatNumber, isPlainObject, recordJson, textTable, type RunRecord } from "../protocol";
import { runCode, type RunCode } from "../history/code";
import { readRunEnv } from "../history/finished";
import { findRecord } from "../history/ids";
import { runDir } from "../history/read";
import { snapshotsOf } from "../history/session";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { formatStart } from "./ls";
import { ROOT_OPTION, storeRoot } from "./store";

const usage = `Usage: labnote show <run-id> [--json] [--no-source] [--root DIR]

Shows one run: status and times, config (* modified, + added to the defaults), metric
summaries, artifacts, host, git, notebook and snapshots, and its code: its lineage (every cell
of the session up to the run's end; ▸ marks those that ran while it was open) or, for runs
recorded without one, the cells that ran while it was open, each with its source.

A run id is <experiment>/<number> (mnist/3), or the number alone when the store holds one
experiment.

Options:
${ROOT_OPTION}
  --json              everything as one JSON object
  --no-source         list the cells without their source`;

/** What `show` knows of a run, as `--json` prints it. */
export interface RunDetail {
  record: RunRecord;
  config: { key: string; value: string; modified: boolean; added: boolean }[];
  env: { host?: unknown; git?: unknown };
  snapshots: { file: string; notebook: string; time: number }[];
  code: RunCode;
}

/** The run's detail, read from the store. */
export function runDetail(root: string, record: RunRecord): RunDetail {
  const env = readRunEnv(runDir(root, record.experiment, record.number));
  return {
    record,
    config: configEntries(record),
    env: { host: env.host, git: env.git },
    snapshots: snapshotsOf(root, record.id).map((s) => ({ file: s.file, notebook: s.links.notebook, time: s.links.time })),
    code: runCode(root, record),
  };
}

function hostLine(host: unknown, rec: RunRecord): string {
  if (!isPlainObject(host)) return `${rec.hostname || "unknown"}${rec.pid ? ` (pid ${rec.pid})` : ""}`;
  const parts = [`${String(host.hostname ?? rec.hostname)} (pid ${String(host.pid ?? rec.pid)})`];
  if (host.platform) parts.push(`${String(host.platform)} ${String(host.arch ?? "")}`.trim());
  if (host.node) parts.push(`node ${String(host.node)}`);
  if (isPlainObject(host.cpu)) parts.push(`${String(host.cpu.count)} × ${String(host.cpu.model)}`);
  if (isPlainObject(host.memory) && typeof host.memory.total === "number") parts.push(`${formatBytes(host.memory.total)} memory`);
  if (host.user) parts.push(`user ${String(host.user)}`);
  return parts.join(" · ");
}

function gitLine(git: unknown): string | undefined {
  if (!isPlainObject(git)) return undefined;
  const parts = [typeof git.commit === "string" ? git.commit.slice(0, 12) : "no commit"];
  if (git.branch) parts[0] += ` on ${String(git.branch)}`;
  if (git.dirty === true) parts.push("uncommitted changes");
  if (git.remote) parts.push(String(git.remote));
  return parts.join(" · ");
}

function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((l) => by + l)
    .join("\n");
}

/** The detail as text for a person. */
export function detailText(d: RunDetail, root: string, withSource: boolean): string {
  const r = d.record;
  const out: string[] = [];
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  out.push(`${r.id}${r.name ? `  ${r.name}` : ""}  ${r.status}`);
  const facts: [string, string | undefined][] = [
    ["started", `${formatStart(r.startTime)} · ${formatDuration(r.duration)}${r.endedBy ? ` · ended by ${r.endedBy}` : ""}`],
    ["tags", r.tags.length ? r.tags.join(", ") : undefined],
    ["seed", String(r.seed)],
    ["re-run of", r.rerunOf],
    ["named", r.named.length ? r.named.join(", ") : undefined],
    ["error", r.error ? `${r.error.name}: ${r.error.message}` : undefined],
    ["notebook", r.notebook],
    ["host", hostLine(d.env.host, r)],
    ["git", gitLine(d.env.git)],
    ["folder", rel(runDir(root, r.experiment, r.number))],
  ];
  for (const s of d.snapshots) facts.push(["snapshot", `${rel(s.file)} (${s.notebook}, ${formatStart(s.time)})`]);
  for (const [k, v] of facts) if (v !== undefined && v !== "") out.push(`  ${k.padEnd(10)} ${v}`);
  out.push("", d.config.length ? "Config (* modified, + added: not in the defaults)" : "Config: empty");
  if (d.config.length) {
    const w = Math.max(...d.config.map((e) => e.key.length));
    for (const e of d.config) out.push(`  ${e.modified ? "*" : e.added ? "+" : " "} ${e.key.padEnd(w)}  ${e.value}`);
  }
  const metrics = Object.entries(r.metrics);
  out.push("", metrics.length ? "Metrics" : "Metrics: none logged");
  if (metrics.length)
    out.push(indent(textTable(["metric", "last", "min", "max", "points", "last step"], metrics.map(([name, s]) => [name, formatNumber(s.last), formatNumber(s.min), formatNumber(s.max), String(s.count), String(s.lastStep)]), 40), "  "));
  if (r.artifacts.length) {
    out.push("", "Artifacts");
    out.push(indent(textTable(["name", "kind", "format", "size", "file"], r.artifacts.map((a) => [a.version ? `${a.name} (v${a.version})` : a.name, a.kind, a.format, formatBytes(a.size), a.file]), 48), "  "));
  }
  if (r.resources.length) {
    out.push("", "Resources read");
    for (const x of r.resources) out.push(`  ${x.path} (${formatBytes(x.size)}, sha256 ${x.sha256.slice(0, 12)})`);
  }
  const cells = d.code.cells;
  const own = new Set(r.cells.map((c) => `${c.sha256}@${c.executionCount}`));
  out.push("");
  if (d.code.source === "lineage") {
    const from = d.code.session?.from === "import" ? "; the log starts where labnote was first imported, earlier cells are not in it" : "";
    out.push(`Code: its lineage, ${cells.length} cell${cells.length === 1 ? "" : "s"} of session ${d.code.session?.session ?? "?"} (▸ ran while the run was open${from})`);
  } else out.push(cells.length ? `Code: the ${cells.length} cell${cells.length === 1 ? "" : "s"} that ran while the run was open (recorded without a lineage)` : "Code: no notebook cells recorded (a run from a script, or capture off)");
  for (const c of cells) {
    const mark = d.code.source === "lineage" && own.has(`${c.sha256}@${c.executionCount}`) ? "▸" : " ";
    const where = c.notebook ? ` ${path.basename(c.notebook)}` : "";
    const outcome = c.ok === false ? `failed${c.error ? `: ${c.error}` : ""}` : c.ok === true ? "ok" : "";
    const time = c.endTime !== undefined ? formatDuration(c.endTime - c.startTime) : "";
    out.push(`${mark} [${c.executionCount}]${where}${[outcome, time].filter(Boolean).map((x) => ` · ${x}`).join("")}`);
    if (withSource) out.push(c.source === "" ? "      (source missing from the store)" : indent(c.source.replace(/\n$/, ""), "      "));
  }
  return out.join("\n") + "\n";
}

/** `labnote show`: one run in full. */
export const command: Command = {
  name: "show",
  summary: "show one run: config, metrics, artifacts, host, git, notebook, snapshots and its code",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { root: "string", json: "boolean", "no-source": "boolean" });
    if (positional.length === 0) throw new UsageError("name a run, e.g. labnote show mnist/3");
    if (positional.length > 1) throw new UsageError(`show takes one run (labnote compare ${positional.join(" ")} compares them)`);
    const root = storeRoot(flags.root);
    const detail = runDetail(root, findRecord(root, positional[0]));
    process.stdout.write(flags.json ? recordJson(detail, 2) + "\n" : detailText(detail, root, flags["no-source"] !== true));
    return 0;
  },
};
