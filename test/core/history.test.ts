import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, isLabnoteError, whenWritten } from "../../src";
import { tempDir, warningsDuring } from "./tmp";

describe("history", () => {
  it("returns every run's record, oldest first, from run.json alone", async () => {
    const root = tempDir();
    const exp = await experiment("h", { root, capture: false, config: { lr: 1 } });
    for (let i = 0; i < 3; i++) await exp.run(async (run) => run.log("loss", i), { config: { lr: i } });
    // history must not need the metric points
    await whenWritten();
    fs.rmSync(path.join(root, "h/2/metrics.csv"));
    fs.rmSync(path.join(root, "h/2/metrics"), { recursive: true });
    const recs = await exp.history();
    assert.deepEqual(recs.map((r) => [r.id, r.status, r.config.lr, r.metrics.loss.last]), [
      ["h/1", "completed", 0, 0],
      ["h/2", "completed", 1, 1],
      ["h/3", "completed", 2, 2],
    ]);
  });

  it("gives an arquero table with flattened config columns and metric summaries", async () => {
    const exp = await experiment("h", { root: tempDir(), capture: false, config: { lr: 0.1, optimizer: { name: "sgd" } } });
    await exp.run(async (run) => run.log("loss", 0.5), { name: "a", tags: ["x", "y"] });
    await exp.run(async (run) => {
      run.log("loss", 0.3);
      run.log("loss", 0.2);
      run.log("acc", 0.9);
    }, { name: "b", config: { "optimizer.name": "adam" } });
    const t = await exp.runs();
    const names = t.columnNames();
    for (const c of ["id", "number", "name", "status", "tags", "startTime", "endTime", "duration", "config.lr", "config.optimizer.name", "loss.last", "loss.min", "loss.max", "acc.last"])
      assert.ok(names.includes(c), `missing column ${c}`);
    const rows = t.objects() as Record<string, unknown>[];
    assert.equal(rows[1]["config.optimizer.name"], "adam");
    assert.equal(rows[1]["loss.min"], 0.2);
    assert.equal(rows[1]["loss.max"], 0.3);
    assert.equal(rows[0]["acc.last"], undefined);
    assert.equal(rows[0].tags, "x,y");
    assert.ok(typeof rows[0].duration === "number");
  });

  it("reopens a finished run read-only by id", async () => {
    const exp = await experiment("h", { root: tempDir(), capture: false, config: { lr: 0.1 } });
    const run = await exp.start();
    run.log("loss", 0.42);
    await run.save({ w: [1] }, "model");
    console.log("hello");
    await run.end();
    for (const id of [run.id, 1, "1"]) {
      const again = await exp.getRun(id);
      assert.equal(again.status, "completed");
      assert.deepEqual(again.metric("loss").values, [0.42]);
      assert.deepEqual(await again.load("model"), { w: [1] });
      assert.equal(again.config.lr, 0.1);
    }
    const again = await exp.getRun(run.id);
    assert.throws(() => again.log(), (e: unknown) => isLabnoteError(e) && e.code === "READ_ONLY");
    assert.throws(() => ((again.config as any).lr = 2), /read-only/);
    await assert.rejects(exp.getRun("h/99"), /No run h\/99/);
    await assert.rejects(exp.getRun("other/1"), /not in experiment "h"/);
  });

  it("shows a running run whose heartbeat is stale (another host) as died", async () => {
    const root = tempDir();
    const exp = await experiment("h", { root, capture: false });
    await exp.run(async () => undefined);
    const file = path.join(root, "h/1/run.json");
    const rec = JSON.parse(fs.readFileSync(file, "utf8"));
    Object.assign(rec, { status: "running", hostname: "elsewhere", heartbeat: Date.now() - 120_000, endTime: undefined, duration: undefined });
    fs.writeFileSync(file, JSON.stringify(rec));
    assert.equal((await exp.history())[0].status, "died");
    rec.heartbeat = Date.now();
    fs.writeFileSync(file, JSON.stringify(rec));
    assert.equal((await exp.history())[0].status, "running");
  });

  it("skips a damaged record with one line that names the run and what is wrong, in history and the runs table", async () => {
    const root = tempDir();
    const exp = await experiment("dmg", { root, capture: false });
    for (let i = 0; i < 4; i++) await exp.run(async (run) => run.log("loss", i));
    const full = fs.readFileSync(path.join(root, "dmg/2/run.json"), "utf8");
    fs.writeFileSync(path.join(root, "dmg/2/run.json"), full.slice(0, full.length / 2)); // truncated
    fs.writeFileSync(path.join(root, "dmg/3/run.json"), JSON.stringify({ experiment: "dmg", number: 3, status: "exploded", startTime: 1 }));
    fs.rmSync(path.join(root, "dmg/4/run.json"));
    fs.utimesSync(path.join(root, "dmg/4"), new Date(0), new Date(0)); // an old folder, not a run starting
    let recs: unknown[] = [];
    const warnings = await warningsDuring(async () => {
      recs = await exp.history();
    });
    assert.deepEqual((recs as { id: string }[]).map((r) => r.id), ["dmg/1"]);
    assert.equal(warnings.length, 3, warnings.join("\n"));
    assert.match(warnings[0], /skipped run dmg\/2: run\.json is not valid JSON .*truncated/);
    assert.match(warnings[1], /skipped run dmg\/3: run\.json has an unknown status "exploded"/);
    assert.match(warnings[2], /skipped run dmg\/4: it has no run\.json/);
    const table = await warningsDuring(async () => assert.equal((await exp.runs()).numRows(), 1));
    assert.equal(table.length, 3);
  });

  it("reading a record never writes it", async () => {
    const root = tempDir();
    const exp = await experiment("ro", { root, capture: false });
    await exp.run(async (run) => run.log("loss", 1));
    const file = path.join(root, "ro/1/run.json");
    const rec = JSON.parse(fs.readFileSync(file, "utf8"));
    // a run of a process that is gone: readers say died, the file stays as it was
    fs.writeFileSync(file, JSON.stringify({ ...rec, status: "running", pid: 2 ** 22 + 12345, endTime: undefined, duration: undefined }));
    const before = fs.statSync(file).mtimeMs;
    const text = fs.readFileSync(file, "utf8");
    const [shown] = await exp.history();
    assert.equal(shown.status, "died");
    assert.equal(fs.readFileSync(file, "utf8"), text);
    assert.equal(fs.statSync(file).mtimeMs, before);
    assert.equal((await exp.getRun(1)).status, "died");
  });
});
