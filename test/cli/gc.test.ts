/**
 * labnote rm, restore and gc against a store made by real runs (sources and resources stored as
 * blobs), with session logs and snapshots written by hand in the shared formats: the round trip,
 * what gc frees and what it keeps, a running run refused, --repair, and the progress bar.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { experiment, whenWritten } from "../../src";
import { BLOBS_DIR, SESSIONS_DIR, SNAPSHOTS_DIR, TRASH_DIR, blobPath, type RunRecord } from "../../src/protocol";
import { sha256 } from "../../src/core/util/hash";
import { Progress } from "../../src/cli/progress";

const main = path.resolve(__dirname, "../../src/cli/main.ts");
const LIB = path.resolve(__dirname, "../../src");
function labnote(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8", env: { ...process.env, LABNOTE_DIR: "" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Every file and folder under `dir` last changed an hour ago: older than gc's grace period. */
function age(dir: string): void {
  const t = new Date(Date.now() - 3600_000);
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      fs.utimesSync(p, t, t);
    }
  };
  walk(dir);
}

function putBlob(root: string, text: string): string {
  const sha = sha256(Buffer.from(text));
  fs.mkdirSync(path.dirname(path.join(root, blobPath(sha))), { recursive: true });
  fs.writeFileSync(path.join(root, blobPath(sha)), text);
  return sha;
}

/** A session log in the shared format: a header, then one line per cell (each source a blob). */
function writeSession(root: string, id: string, pid: number, sources: string[]): string[] {
  fs.mkdirSync(path.join(root, SESSIONS_DIR), { recursive: true });
  const shas = sources.map((s) => putBlob(root, s));
  const lines = [JSON.stringify({ format: 1, session: id, pid, hostname: os.hostname(), startTime: Date.now(), from: "kernel" })];
  shas.forEach((sha, i) => lines.push(JSON.stringify({ i, executionCount: i + 1, sha256: sha, startTime: Date.now(), endTime: Date.now(), ok: true })));
  fs.writeFileSync(path.join(root, SESSIONS_DIR, `${id}.jsonl`), lines.join("\n") + "\n");
  return shas;
}

function writeSnapshot(root: string, text: string, runs: string[] | undefined): string {
  const sha = sha256(Buffer.from(text));
  fs.mkdirSync(path.join(root, SNAPSHOTS_DIR), { recursive: true });
  fs.writeFileSync(path.join(root, SNAPSHOTS_DIR, `${sha}.ipynb`), text);
  if (runs) fs.writeFileSync(path.join(root, SNAPSHOTS_DIR, `${sha}.links.json`), JSON.stringify({ format: 1, notebook: "demo.ipynb", session: "s1", time: Date.now(), runs }));
  return sha;
}

function record(root: string, id: string): RunRecord {
  return JSON.parse(fs.readFileSync(path.join(root, id, "run.json"), "utf8"));
}

/** A pid that is surely gone: a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("labnote rm, restore and gc", () => {
  let dir: string;
  let root: string;
  const blob: Record<string, string> = {};
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-gc-"));
    root = path.join(dir, "experiments");
    const project = path.join(dir, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), '{"name":"p"}');
    fs.writeFileSync(path.join(project, "train.ts"), "export const train = 1;\n");
    const shared = path.join(dir, "shared.csv");
    const only2 = path.join(dir, "only-run-2.csv");
    fs.writeFileSync(shared, "a,b\n1,2\n");
    fs.writeFileSync(only2, "x\n42\n");
    const exp = await experiment("sweep", { root, projectDir: project, capture: { output: false, git: false, dependencies: false, host: false } });
    await exp.run(async (run) => {
      run.log("loss", 1);
      await run.addResource(shared);
    });
    await exp.run(async (run) => {
      run.log("loss", 2);
      await run.addResource(only2);
      await run.addResource(shared);
    });
    await whenWritten();
    blob.shared = sha256(fs.readFileSync(shared));
    blob.only2 = sha256(fs.readFileSync(only2));
    blob.source = sha256(fs.readFileSync(path.join(project, "train.ts")));
    // Session logs: one named by run 1's lineage, one of a live kernel, one of a dead kernel no run names.
    [blob.named] = writeSession(root, "s-named", deadPid(), ["const named = 1;"]);
    [blob.live] = writeSession(root, "s-live", process.pid, ["const live = 1;"]);
    [blob.dead] = writeSession(root, "s-dead", deadPid(), ["const dead = 1;"]);
    const r1 = record(root, "sweep/1");
    fs.writeFileSync(path.join(root, "sweep/1/run.json"), JSON.stringify({ ...r1, lineage: { session: "s-named", to: 1 } }, null, 2));
    blob.snapKept = writeSnapshot(root, '{"cells":[1]}', ["sweep/1", "sweep/2"]);
    blob.snapOf2 = writeSnapshot(root, '{"cells":[2]}', ["sweep/2"]);
    blob.snapOrphan = writeSnapshot(root, '{"cells":[3]}', undefined);
    blob.loose = putBlob(root, "nothing refers to me");
    age(root);
    blob.fresh = putBlob(root, "written a moment ago");
  });
  after(async () => {
    await whenWritten();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("gc --dry-run says what it would free and frees nothing", () => {
    const before = files(root);
    const r = labnote("gc", "--dry-run", "--root", root);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^gc: would free \d+ B: 2 blobs \(\d+ B\), 1 session log \(\d+ B\), 1 snapshot \(\d+ B\)$/m);
    assert.match(r.out, new RegExp(`^  blob ${blob.loose} `, "m"));
    assert.match(r.out, /^  session log s-dead /m);
    assert.match(r.out, new RegExp(`^  snapshot ${blob.snapOrphan} `, "m"));
    assert.deepEqual(files(root), before);
  });

  it("rm moves runs to the trash, restore brings them back, a wrong id moves nothing", () => {
    const wrong = labnote("rm", "sweep/2", "sweep/7", "--root", root);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /No run sweep\/7: sweep has runs 1, 2/);
    assert.ok(fs.existsSync(path.join(root, "sweep/2/run.json")), "nothing moved");
    const r = labnote("rm", "sweep/2", "--root", root);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^moved sweep\/2 \(run, completed, [\d.]+ k?B\) to the trash$/m);
    assert.ok(fs.existsSync(path.join(root, TRASH_DIR, "sweep/2/run.json")));
    assert.deepEqual((JSON.parse(labnote("ls", "sweep", "--json", "--root", root).out) as RunRecord[]).map((x) => x.number), [1]);
    assert.match(labnote("restore", "--root", root).out, /^sweep\/2\s+run\s+completed\s/m);
    const typo = labnote("restore", "sweep/3", "--root", root);
    assert.equal(typo.code, 2);
    assert.match(typo.err, /No run sweep\/3 in the trash: did you mean "sweep\/2"\?/);
    assert.equal(labnote("restore", "sweep/2", "--root", root).code, 0);
    assert.deepEqual((JSON.parse(labnote("ls", "sweep", "--json", "--root", root).out) as RunRecord[]).map((x) => x.number), [1, 2]);
    assert.match(labnote("restore", "--root", root).out, /the trash is empty/);
  });

  it("gc empties the trash and frees what no kept run, kept session or linked snapshot refers to; it keeps the rest", () => {
    assert.equal(labnote("rm", "sweep/2", "--root", root).code, 0);
    const r = labnote("gc", "--root", root);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^gc: freed [\d.]+ k?B: 1 run in the trash \([\d.]+ k?B\), 3 blobs \(\d+ B\), 1 session log \(\d+ B\), 2 snapshots \(\d+ B\)$/m);
    assert.match(r.out, /^kept: 1 run, \d+ blobs \(\d+ B\), 2 session logs, 1 snapshot$/m);
    const has = (sha: string) => fs.existsSync(path.join(root, blobPath(sha)));
    assert.ok(!fs.existsSync(path.join(root, TRASH_DIR, "sweep/2")), "the trash is empty");
    assert.ok(!has(blob.only2), "the resource only run 2 read is gone");
    assert.ok(!has(blob.loose));
    assert.ok(!has(blob.dead), "the dead session's cells are gone with it");
    assert.ok(!fs.existsSync(path.join(root, SESSIONS_DIR, "s-dead.jsonl")));
    assert.ok(!fs.existsSync(path.join(root, SNAPSHOTS_DIR, `${blob.snapOf2}.ipynb`)));
    assert.ok(!fs.existsSync(path.join(root, SNAPSHOTS_DIR, `${blob.snapOf2}.links.json`)));
    assert.ok(!fs.existsSync(path.join(root, SNAPSHOTS_DIR, `${blob.snapOrphan}.ipynb`)));
    for (const kept of ["shared", "source", "named", "live", "fresh"]) assert.ok(has(blob[kept]), `blob ${kept} is kept`);
    assert.ok(fs.existsSync(path.join(root, SESSIONS_DIR, "s-named.jsonl")), "named by run 1's lineage");
    assert.ok(fs.existsSync(path.join(root, SESSIONS_DIR, "s-live.jsonl")), "its kernel is alive");
    assert.ok(fs.existsSync(path.join(root, SNAPSHOTS_DIR, `${blob.snapKept}.links.json`)), "linked to run 1");
    assert.equal(labnote("show", "sweep/1", "--root", root).code, 0);
    assert.match(labnote("gc", "--root", root).out, /^gc: nothing to free in /m);
  });

  it("never gives a removed run's number out again, in the trash or after gc", async () => {
    const exp = await experiment("sweep", { root, capture: false });
    const run = await exp.start();
    await run.end();
    assert.equal(run.number, 3, "number 2 was removed, not freed for reuse");
  });

  it("holds every blob while a run's record cannot be read, unless forced", () => {
    const loose = putBlob(root, "loose again");
    fs.mkdirSync(path.join(root, "sweep/9"));
    fs.writeFileSync(path.join(root, "sweep/9/run.json"), '{"format": 1, "experim');
    age(root);
    const held = labnote("gc", "--root", root);
    assert.equal(held.code, 0);
    assert.match(held.err, /^labnote gc: run sweep\/9: run\.json is not valid JSON/m);
    assert.match(held.err, /kept every blob: 1 run's record cannot be read, .*\(labnote rm sweep\/9, or pass --force\)/);
    assert.ok(fs.existsSync(path.join(root, blobPath(loose))));
    assert.match(labnote("gc", "--force", "--root", root).out, /^gc: freed \d+ B: 2 blobs \(\d+ B\)$/m);
    assert.ok(!fs.existsSync(path.join(root, blobPath(loose))));
    assert.ok(!fs.existsSync(path.join(root, blobPath(blob.fresh))), "the blob kept by the grace period is old now");
    assert.equal(labnote("rm", "sweep/9", "--root", root).code, 0, "a damaged run can be removed");
  });

  it("refuses to rm a running run; gc --repair writes died into it once its process is gone", { timeout: 60_000 }, async () => {
    const script = `const { experiment } = require(${JSON.stringify(LIB)});
      (async () => { const exp = await experiment("live", { root: ${JSON.stringify(root)}, capture: false });
        const run = await exp.start(); run.log("loss", 1); run.flush();
        setTimeout(() => process.stdout.write("ready\\n"), 300); setInterval(() => {}, 1000); })();`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    const refused = labnote("rm", "live/1", "--root", root);
    assert.equal(refused.code, 1);
    assert.match(refused.err, new RegExp(`^labnote rm: Cannot remove a running run: run live/1 is running \\(process ${child.pid} on ${os.hostname()} is alive\\); end it`, "m"));
    assert.match(labnote("gc", "--repair", "--dry-run", "--root", root).out, /no run to repair/);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    assert.equal(record(root, "live/1").status, "running", "reading never writes: the record still says running");
    const dry = labnote("gc", "--repair", "--dry-run", "--root", root);
    assert.match(dry.out, /^would repair live\/1: running → died/m);
    assert.equal(record(root, "live/1").status, "running");
    const plain = labnote("gc", "--root", root);
    assert.match(plain.err, /1 run shows as died but its record says running; labnote gc --repair writes died into it/);
    const r = labnote("gc", "--repair", "--root", root);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^repaired live\/1: running → died/m);
    const rec = record(root, "live/1");
    assert.equal(rec.status, "died");
    assert.equal(rec.endTime, rec.heartbeat);
    assert.equal(rec.duration, rec.heartbeat - rec.startTime);
    assert.deepEqual(Object.keys(rec.metrics), ["loss"], "the rest of the record is as it was");
    assert.match(labnote("gc", "--repair", "--root", root).out, /no run to repair/);
    assert.equal(labnote("rm", "live/1", "--root", root).code, 0, "a died run can be removed");
  });

  it("draws a progress bar only on a terminal, and erases it", () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 80, write: (s: string) => written.push(s) };
    let t = 0;
    const bar = new Progress("gc", 4, { stream: tty, now: () => (t += 200) });
    for (let i = 0; i < 4; i++) bar.tick();
    bar.end();
    assert.equal(written.length, 5);
    assert.equal(written[1], "\rgc [############------------]  50% 2 / 4\x1b[K");
    assert.equal(written[4], "\r\x1b[K");
    // A line printed while the bar is up: the bar is erased first and drawn again at the next tick.
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => void lines.push(line);
    written.length = 0;
    const again = new Progress("tb", 4, { stream: tty, now: () => 1000 });
    try {
      again.tick();
      again.say("run a/1: done");
      again.tick();
    } finally {
      console.log = log;
    }
    assert.deepEqual(lines, ["run a/1: done"]);
    assert.equal(written[1], "\r\x1b[K", "erased before the line");
    assert.match(written[2], /^\rtb \[#+-+\]  50% 2 \/ 4/, "drawn again at once after it");
    const piped: string[] = [];
    const quiet = new Progress("gc", 4, { stream: { isTTY: false, write: (s: string) => piped.push(s) } });
    quiet.tick(4);
    quiet.end();
    assert.deepEqual(piped, []);
    // Through a real terminal (script(1) gives the command a pty), the bar is drawn; piped, nothing extra.
    const withTty = spawnSync("script", ["-qec", `${process.execPath} --import tsx ${main} gc --dry-run --root ${root}`, "/dev/null"], { encoding: "utf8", env: { ...process.env, LABNOTE_DIR: "" } });
    if (withTty.status === 0) assert.match(withTty.stdout, /gc: reading runs \[#+-*\]/);
    const pipedRun = labnote("gc", "--dry-run", "--root", root);
    assert.doesNotMatch(pipedRun.err + pipedRun.out, /\[#|\r/);
  });
});

describe("labnote gc and the temporary files of killed writes", () => {
  it("removes a killed process's .<name>.<pid>.<n>.tmp files once they are old, and keeps a live writer's and fresh ones", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-gc-tmp-"));
    const root = path.join(dir, "experiments");
    try {
      const exp = await experiment("tmp", { root, capture: false });
      await exp.run((run) => run.log("loss", 1));
      await whenWritten();
      const run = path.join(root, "tmp", "1");
      const dead = deadPid();
      const stale = [path.join(run, `.metrics.csv.${dead}.7.tmp`), path.join(run, "metrics", `.0.json.${dead}.1.tmp`), path.join(root, "tmp", `.experiment.json.${dead}.2.tmp`)];
      const live = path.join(run, `.run.json.${process.pid}.3.tmp`);
      for (const f of [...stale, live]) fs.writeFileSync(f, "half a file");
      age(root);
      const fresh = path.join(run, `.metrics.csv.${dead}.9.tmp`);
      fs.writeFileSync(fresh, "being written");
      const dry = labnote("gc", "--dry-run", "--root", root);
      assert.equal(dry.code, 0, dry.err);
      assert.match(dry.out, /would free .*3 temporary files/);
      assert.match(dry.out, /temporary file tmp\/1\/\.metrics\.csv\.\d+\.7\.tmp/);
      const r = labnote("gc", "--root", root);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /freed .*3 temporary files/);
      for (const f of stale) assert.ok(!fs.existsSync(f), f);
      assert.ok(fs.existsSync(live), "a live process's file stays");
      assert.ok(fs.existsSync(fresh), "a fresh file stays");
      assert.ok(fs.existsSync(path.join(run, "run.json")));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
