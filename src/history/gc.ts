/**
 * What `labnote gc` may free, worked out by reading the store (this module never removes
 * anything; the command does, from the plan):
 * - every run in the trash;
 * - blobs that no kept run refers to (its cells, resources, artifacts, captured sources) and no
 *   kept session log names;
 * - session logs that no kept run's lineage names and whose kernel is gone (a log of a live
 *   kernel on this host, or of another host, is kept);
 * - snapshots whose links name no kept run;
 * - temporary files a killed process left while writing a file atomically (`.<name>.<pid>.<n>.tmp`
 *   in a run's folder, its metrics folder or an experiment's folder), once the process is gone.
 * Nothing written in the last {@link GC_GRACE_MS} is freed (a running kernel may be about to
 * refer to it); when a kept run's record cannot be read, what it refers to is unknown, so no
 * blob is freed unless the caller forces it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BLOBS_DIR, METRICS_DIR, RUN_FILES, SESSIONS_DIR, SNAPSHOTS_DIR, isPlainObject, parseSessionLog, parseSnapshotLinks, type RunRecord } from "../protocol";
import { listExperiments, pidAlive, readRunRecord, runNumbers } from "./read";
import { diskUsage, trashedRuns } from "./trash";

/** Files younger than this are never freed: a running kernel may be about to refer to them. */
export const GC_GRACE_MS = 10 * 60_000;

/** A file or folder gc would remove, and its size. */
export interface GcItem {
  path: string;
  bytes: number;
  /** A run id, a session id or a snapshot's hash: what a person recognises. */
  name: string;
  /** Files removed with it (a snapshot's links file). */
  also?: string[];
}

/** A run whose record says `running` while its process is gone: `--repair` writes `died` into it. */
export interface GcRepair {
  id: string;
  file: string;
  /** The time its end is set to: its last heartbeat. */
  endTime: number;
}

/** What gc would free and keep. */
export interface GcPlan {
  root: string;
  keptRuns: number;
  trash: GcItem[];
  blobs: GcItem[];
  sessions: GcItem[];
  snapshots: GcItem[];
  /** Temporary files of atomic writes whose process is gone. */
  temps: GcItem[];
  kept: { blobs: number; blobBytes: number; sessions: number; snapshots: number };
  /** Run folders whose record cannot be read (their references are unknown). */
  unreadable: { id: string; reason: string }[];
  /** True when blobs were kept because a record could not be read (see `force`). */
  blobsHeld: boolean;
  repairs: GcRepair[];
}

function entries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function stat(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** Blob hashes a run folder refers to: its record's cells, resources and artifacts, and its captured sources. */
function runReferences(dir: string, record: RunRecord | undefined, into: Set<string>): void {
  if (record) {
    for (const c of record.cells) into.add(c.sha256);
    for (const r of record.resources) into.add(r.sha256);
    for (const a of record.artifacts) if (typeof a.sha256 === "string") into.add(a.sha256);
  }
  const sources = readJson(path.join(dir, RUN_FILES.sources));
  if (isPlainObject(sources) && Array.isArray(sources.files))
    for (const f of sources.files) if (isPlainObject(f) && typeof f.sha256 === "string") into.add(f.sha256);
}

/** A temporary file of an atomic write (`writeAtomic`): `.<name>.<pid>.<n>.tmp`; its pid. */
const TEMP = /^\..+\.(\d+)\.\d+\.tmp$/;

/** The stale temporary files in `dir`: old, and their writer is not a live process here. */
function staleTemps(dir: string, old: (p: string, st?: fs.Stats) => boolean, into: GcItem[]): void {
  for (const e of entries(dir)) {
    const m = e.isFile() ? TEMP.exec(e.name) : null;
    if (!m) continue;
    const file = path.join(dir, e.name);
    const st = stat(file);
    if (old(file, st) && !pidAlive(Number(m[1]))) into.push({ path: file, name: path.relative(dir, file), bytes: st?.size ?? 0 });
  }
}

/**
 * Work out what gc may free under `root`.
 * @example const plan = planGc(root); plan.blobs.length
 */
export function planGc(root: string, options: { now?: number; force?: boolean; onRun?: () => void } = {}): GcPlan {
  const now = options.now ?? Date.now();
  const old = (p: string, st = stat(p)) => st !== undefined && now - st.mtimeMs > GC_GRACE_MS;
  const host = os.hostname();
  const refs = new Set<string>();
  const keptIds = new Set<string>();
  const namedSessions = new Set<string>();
  const unreadable: { id: string; reason: string }[] = [];
  const repairs: GcRepair[] = [];
  const temps: GcItem[] = [];
  const tempsIn = (dir: string, label: string) => {
    const found: GcItem[] = [];
    staleTemps(dir, old, found);
    for (const t of found) temps.push({ ...t, name: `${label}/${t.name}` });
  };

  for (const experiment of listExperiments(root)) {
    tempsIn(path.join(root, experiment), experiment);
    for (const n of runNumbers(root, experiment)) {
      options.onRun?.();
      const id = `${experiment}/${n}`;
      const dir = path.join(root, experiment, String(n));
      keptIds.add(id);
      tempsIn(dir, id);
      tempsIn(path.join(dir, METRICS_DIR), `${id}/${METRICS_DIR}`);
      const r = readRunRecord(root, experiment, n, now);
      if (!r.ok) {
        // A folder made a moment ago is a run starting: the grace period covers what it writes.
        if (old(dir)) unreadable.push({ id, reason: r.reason });
        runReferences(dir, undefined, refs);
        continue;
      }
      runReferences(dir, r.record, refs);
      if (r.record.lineage) namedSessions.add(r.record.lineage.session);
      if (r.record.status === "died") {
        const raw = readJson(path.join(dir, RUN_FILES.record));
        if (isPlainObject(raw) && raw.status === "running") repairs.push({ id, file: path.join(dir, RUN_FILES.record), endTime: r.record.endTime ?? r.record.heartbeat });
      }
    }
  }

  const trash: GcItem[] = trashedRuns(root).map((t) => ({ path: t.dir, name: t.id, bytes: diskUsage(t.dir).bytes }));

  // Session logs: kept when a kept run names one, or its kernel may be alive.
  const sessions: GcItem[] = [];
  let keptSessions = 0;
  const sessionDir = path.join(root, SESSIONS_DIR);
  for (const e of entries(sessionDir)) {
    if (!e.isFile() || !e.name.endsWith(".jsonl")) continue;
    const file = path.join(sessionDir, e.name);
    const id = e.name.slice(0, -".jsonl".length);
    const st = stat(file);
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      keptSessions++;
      continue;
    }
    const log = parseSessionLog(text);
    const h = log.header;
    const alive = h === undefined ? !old(file, st) : h.hostname !== host || (h.pid > 0 && pidAlive(h.pid));
    if (namedSessions.has(id) || alive || !old(file, st)) {
      keptSessions++;
      for (const entry of log.entries) refs.add(entry.sha256);
    } else sessions.push({ path: file, name: id, bytes: st?.size ?? 0 });
  }

  // Snapshots: kept when their links name a kept run.
  const snapshots: GcItem[] = [];
  let keptSnapshots = 0;
  const snapDir = path.join(root, SNAPSHOTS_DIR);
  tempsIn(snapDir, SNAPSHOTS_DIR);
  const snapFiles = entries(snapDir).filter((e) => e.isFile() && !TEMP.test(e.name));
  const linked = new Set<string>();
  for (const e of snapFiles) {
    if (!e.name.endsWith(".links.json")) continue;
    const sha = e.name.slice(0, -".links.json".length);
    linked.add(sha);
    const links = path.join(snapDir, e.name);
    const notebook = path.join(snapDir, `${sha}.ipynb`);
    let parsed: ReturnType<typeof parseSnapshotLinks>;
    try {
      parsed = parseSnapshotLinks(fs.readFileSync(links, "utf8"));
    } catch {
      parsed = undefined;
    }
    const keep = parsed ? parsed.runs.some((id) => keptIds.has(id)) : true;
    if (keep || !old(links) || (fs.existsSync(notebook) && !old(notebook))) keptSnapshots++;
    else snapshots.push({ path: notebook, name: sha, bytes: (stat(notebook)?.size ?? 0) + (stat(links)?.size ?? 0), also: [links] });
  }
  // A notebook without links file, older than the grace period: its export never finished.
  for (const e of snapFiles) {
    if (!e.name.endsWith(".ipynb")) continue;
    const sha = e.name.slice(0, -".ipynb".length);
    if (linked.has(sha)) continue;
    const file = path.join(snapDir, e.name);
    if (old(file)) snapshots.push({ path: file, name: sha, bytes: stat(file)?.size ?? 0 });
    else keptSnapshots++;
  }

  // Blobs: what nothing kept refers to.
  const blobs: GcItem[] = [];
  let keptBlobs = 0;
  let keptBlobBytes = 0;
  const blobsHeld = unreadable.length > 0 && options.force !== true;
  const blobDir = path.join(root, BLOBS_DIR);
  for (const d of entries(blobDir)) {
    if (!d.isDirectory()) continue;
    for (const e of entries(path.join(blobDir, d.name))) {
      if (!e.isFile()) continue;
      const file = path.join(blobDir, d.name, e.name);
      const st = stat(file);
      const size = st?.size ?? 0;
      // Left-over temporary files of a killed write count as unreferenced.
      const sha = e.name.startsWith(".") ? "" : e.name;
      if (refs.has(sha) || blobsHeld || !old(file, st)) {
        keptBlobs++;
        keptBlobBytes += size;
      } else blobs.push({ path: file, name: sha || e.name, bytes: size });
    }
  }

  return {
    root,
    keptRuns: keptIds.size,
    trash,
    blobs,
    sessions,
    snapshots,
    temps,
    kept: { blobs: keptBlobs, blobBytes: keptBlobBytes, sessions: keptSessions, snapshots: keptSnapshots },
    unreadable,
    blobsHeld,
    repairs,
  };
}
