import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { experiment, whenWritten } from "../../src";

const main = path.resolve(__dirname, "../../src/cli/main.ts");
function labnote(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("labnote runs", () => {
  let root: string;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-runs-"));
    const exp = await experiment("sweep", { root, capture: false, config: { lr: 0.1, layers: 2 } });
    for (const lr of [0.1, 0.3]) await exp.run(async (run) => run.log("loss", lr * 2), { name: `lr=${lr}`, config: { lr } });
    await exp.run(async () => {
      throw new Error("diverged");
    }, { name: "bad" }).catch(() => undefined);
  });
  after(async () => {
    await whenWritten();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("is labnote ls under its earlier name: the same table, with status, duration, the config that varies and last metric values", () => {
    const r = labnote("runs", "--root", root, "--experiment", "sweep");
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split("\n");
    assert.match(lines[0], /^sweep — 3 runs in /);
    assert.match(lines[1], /^#\s+name\s+status\s+started\s+duration\s+lr\s+loss$/, "layers does not vary, so it is left out");
    assert.match(lines[3], /^1\s+lr=0\.1\s+completed\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\S+ s\s+0\.1\s+0\.2$/);
    assert.match(lines[5], /^3\s+bad\s+failed/);
    assert.equal(labnote("ls", "sweep", "--root", root).out, r.out);
    assert.equal(labnote("runs", "sweep", "--root", root).out, r.out);
  });

  it("prints CSV and JSON", () => {
    const csv = labnote("runs", "--root", root, "--experiment", "sweep", "--format", "csv");
    assert.equal(csv.code, 0);
    assert.match(csv.out.split("\n")[0], /^id,number,name,status,tags,startTime,endTime,duration,config\.layers,config\.lr,loss\.last,loss\.min,loss\.max$/);
    const json = JSON.parse(labnote("runs", "--root", root, "--experiment", "sweep", "--format", "json").out);
    assert.deepEqual(json.map((r: { status: string }) => r.status), ["completed", "completed", "failed"]);
  });

  it("lists every experiment when none is named, and says clearly when there is none", () => {
    assert.match(labnote("runs", "--root", root).out, /^sweep — 3 runs/);
    const missing = labnote("runs", "--root", path.join(root, "nothing-here"));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /No store at .*nothing-here \(--root\): it does not exist; folders in /);
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-empty-"));
    const empty = labnote("runs", "--root", emptyDir);
    fs.rmSync(emptyDir, { recursive: true });
    assert.equal(empty.code, 2);
    assert.match(empty.err, /No experiments under /);
    const bad = labnote("runs", "--format", "xml");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--format must be table, csv or json/);
  });

  it("names a run whose record is damaged on stderr and lists the others", () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-damaged-"));
    try {
      fs.cpSync(root, copy, { recursive: true });
      fs.writeFileSync(path.join(copy, "sweep/2/run.json"), "{\"format\": 1, \"experiment\": \"sw");
      const r = labnote("runs", "--root", copy, "--experiment", "sweep");
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^sweep — 2 runs in /);
      assert.match(r.err, /^labnote: skipped run sweep\/2: run\.json is not valid JSON .*sweep\/2\/run\.json\)$/m);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it("refuses an unknown option with a usage error (exit 2)", () => {
    const r = labnote("runs", "--colour");
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown option --colour/);
    assert.match(r.err, /Usage: labnote runs/);
  });
});
