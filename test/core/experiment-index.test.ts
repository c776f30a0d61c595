import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, whenWritten } from "../../src";
import { ANNOTATIONS_FILE, INDEX_FILES, annotationsJson, parseIndex, planIndexRead } from "../../src/protocol";
import { listRunFolders, readIndexFiles, readIndexedHistory } from "../../src/history/experiment-index";
import { readHistory } from "../../src/history/read";
import { compactIndex } from "../../src/sinks/file/experiment-index";
import { tempDir } from "./tmp";

const TSX = ["--import", "tsx"];
const fixture = (name: string) => path.join(__dirname, "fixtures", name);
const repo = path.resolve(__dirname, "..", "..");

/** A process of its own; `ready` resolves when it prints "ready", `done` with the rest of its output. */
function worker(args: string[]): { ready: Promise<void>; done: Promise<string> } {
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const done = new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, [...TSX, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: repo });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
      if (out.startsWith("ready\n")) ready();
    });
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 ? resolve(out.replace(/^ready\n/, "")) : reject(new Error(`worker failed (${code}): ${err}`))));
  });
  done.catch(() => ready());
  return { ready: isReady, done };
}

/** The entries of the index alone (no run folder read), and the folders it does not answer for. */
function indexOnly(root: string, name: string) {
  const expDir = path.join(root, name);
  const index = readIndexFiles(expDir, name);
  const plan = planIndexRead(listRunFolders(expDir), index);
  return { index, plan };
}

async function runs(root: string, name: string, n: number, tags: string[] = []): Promise<void> {
  const exp = await experiment(name, { root, capture: false });
  for (let i = 0; i < n; i++) {
    const run = await exp.start({ name: `r${i}`, config: { lr: 0.1 * (i + 1) }, tags });
    run.log("loss", 1 / (i + 1));
    await run.end();
  }
  await whenWritten();
}

describe("the experiment index", () => {
  /** 8 processes with 10 runs open each end them all at once (and a ninth compacts in a loop, when asked). */
  async function race(withCompactor: boolean) {
    const root = tempDir();
    fs.mkdirSync(path.join(root, "race"), { recursive: true });
    // An index already there: the enders only append (a missing index would make them compact).
    compactIndex(path.join(root, "race"), "race");
    const compactor = withCompactor ? worker([fixture("compact-worker.ts"), root]) : undefined;
    const enders = Array.from({ length: 8 }, () => worker([fixture("index-worker.ts"), root, "10"]));
    await Promise.all([...(compactor ? [compactor] : []), ...enders].map((w) => w.ready));
    fs.writeFileSync(path.join(root, "go"), "");
    const numbers = (await Promise.all(enders.map((w) => w.done))).flatMap((o) => JSON.parse(o) as number[]);
    fs.writeFileSync(path.join(root, "stop"), "");
    const compactions = compactor ? Number(await compactor.done) : 0;
    assert.equal(numbers.length, 80);
    const { index, plan } = indexOnly(root, "race");
    assert.ok(index, "an index was written");
    assert.equal(index.damaged, 0, "no torn or interleaved line");
    assert.equal(plan.read.length, 0, `runs the index does not answer for: ${plan.read.map((f) => f.number).join(", ")}`);
    assert.deepEqual(plan.current.map((e) => e.number).sort((a, b) => a - b), [...numbers].sort((a, b) => a - b));
    assert.ok(plan.current.every((e) => e.record.status === "completed" && e.record.metrics.loss?.count === 10));
    const logFile = path.join(root, "race", INDEX_FILES.log);
    return { compactions, log: fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "" };
  }

  it("loses no run when 8 processes end 10 runs each at the same moment: 80 whole lines appended", { timeout: 240_000 }, async () => {
    const { log } = await race(false);
    // Each run's line at its start and at its end: 160 whole lines, none lost to another process's append.
    assert.equal(log.split("\n").filter(Boolean).length, 160);
  });

  it("loses no run when a ninth process compacts the index in a loop meanwhile", { timeout: 240_000 }, async () => {
    const { compactions } = await race(true);
    assert.ok(compactions > 0, "the compactor ran");
  });

  it("is written at each run's end, holds the table's fields, and is compacted into index.jsonl", async () => {
    const root = tempDir();
    await runs(root, "mnist", 3, ["v1"]);
    const expDir = path.join(root, "mnist");
    assert.ok(fs.existsSync(path.join(expDir, INDEX_FILES.index)), "the first run's end builds the index");
    const { plan } = indexOnly(root, "mnist");
    assert.equal(plan.read.length, 0);
    const e = plan.current.find((x) => x.number === 2)!;
    assert.equal(e.record.name, "r1");
    assert.deepEqual(e.record.tags, ["v1"]);
    assert.equal(e.record.config.lr, 0.2);
    assert.equal(e.record.metrics.loss.last, 0.5);
    assert.equal(e.record.status, "completed");
    assert.equal(typeof e.record.endTime, "number");
    assert.deepEqual(e.record.artifacts, []);
    assert.ok(compactIndex(expDir, "mnist"));
    assert.ok(!fs.existsSync(path.join(expDir, INDEX_FILES.log)), "compaction folds the log into the index");
    const text = fs.readFileSync(path.join(expDir, INDEX_FILES.index), "utf8");
    assert.equal(parseIndex(text, "mnist").entries.size, 3);
    assert.equal(readIndexedHistory(root, "mnist").fromIndex, 3);
  });

  it("is never trusted over the run folders: a missing, stale or damaged index reads the folders", async () => {
    const root = tempDir();
    await runs(root, "exp", 4);
    const expDir = path.join(root, "exp");
    // stale: a run.json rewritten after its entry
    const file = path.join(expDir, "2", "run.json");
    const rec = JSON.parse(fs.readFileSync(file, "utf8"));
    rec.name = "renamed";
    await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(path.join(expDir, "2", ".tmp"), JSON.stringify(rec));
    fs.renameSync(path.join(expDir, "2", ".tmp"), file);
    // a run folder the index does not know (written by hand, or by an older labnote)
    fs.cpSync(path.join(expDir, "4"), path.join(expDir, "5"), { recursive: true });
    const r5 = JSON.parse(fs.readFileSync(path.join(expDir, "5", "run.json"), "utf8"));
    fs.writeFileSync(path.join(expDir, "5", "run.json"), JSON.stringify({ ...r5, number: 5, id: "exp/5", name: "by hand" }));
    // damage: a line that is not JSON, an entry of the wrong shape, and a torn last line
    fs.appendFileSync(path.join(expDir, INDEX_FILES.log), 'not json\n{"run":"x"}\n{"run":3,"mtime":99999999999999,"record":{"experiment":"exp","number":3,"status":"comp');
    // a run moved away: its entry must not bring it back
    fs.rmSync(path.join(expDir, "3"), { recursive: true });
    const h = readIndexedHistory(root, "exp", () => {});
    assert.deepEqual(h.records.map((r) => `${r.number}:${r.name}`), ["1:r0", "2:renamed", "4:r3", "5:by hand"]);
    assert.equal(h.damaged, 3);
    assert.equal(h.read, 2, "only the changed and the unknown folder are read");
    // missing: the same runs from the folders alone
    fs.rmSync(path.join(expDir, INDEX_FILES.index));
    fs.rmSync(path.join(expDir, INDEX_FILES.log));
    const m = readIndexedHistory(root, "exp", () => {});
    assert.deepEqual(m.records.map((r) => r.name), ["r0", "renamed", "r3", "by hand"]);
    assert.equal(m.fromIndex, 0);
    // the next run's end rebuilds it, repaired from the folders
    await runs(root, "exp", 1);
    const { plan } = indexOnly(root, "exp");
    assert.equal(plan.read.length, 0);
    assert.deepEqual(plan.current.map((e) => `${e.number}:${e.record.name}`), ["1:r0", "2:renamed", "4:r3", "5:by hand", "6:r0"]);
  });

  it("reads a newer index format as no index at all", async () => {
    const root = tempDir();
    await runs(root, "exp", 2);
    const expDir = path.join(root, "exp");
    fs.writeFileSync(path.join(expDir, INDEX_FILES.index), JSON.stringify({ labnote: "index", format: 99 }) + "\n");
    const h = readIndexedHistory(root, "exp");
    assert.equal(h.records.length, 2);
  });
});

describe("annotations", () => {
  it("merge into every reader: tags joined with the record's, notes added; labnote ls --filter tag: sees them", async () => {
    const root = tempDir();
    await runs(root, "exp", 3, ["v1"]);
    const dir = path.join(root, "exp", "2");
    fs.writeFileSync(path.join(dir, ANNOTATIONS_FILE), annotationsJson({ notes: "the good one", tags: ["best", "v1"], time: Date.now() }));
    const hist = readHistory(root, "exp");
    assert.deepEqual(hist[1].tags, ["v1", "best"]);
    assert.equal(hist[1].notes, "the good one");
    assert.equal(hist[0].notes, undefined);
    const indexed = readIndexedHistory(root, "exp");
    assert.deepEqual(indexed.records[1].tags, ["v1", "best"]);
    assert.equal(indexed.records[1].notes, "the good one");
    const ls = spawnSync(process.execPath, [...TSX, path.join(repo, "src", "cli", "main.ts"), "ls", "exp", "--root", root, "--filter", "tag:best"], { encoding: "utf8", cwd: repo });
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /\br1\b/);
    assert.doesNotMatch(ls.stdout, /\br0\b|\br2\b/);
    // the record itself is never rewritten
    assert.doesNotMatch(fs.readFileSync(path.join(dir, "run.json"), "utf8"), /best/);
  });
});
