import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as aq from "arquero";
import { experiment, isLabnoteError } from "../../src";
import { tempDir } from "./tmp";
import { BLOBS_DIR, STORE_DIR } from "../../src/protocol";

const python = [path.resolve(__dirname, "../../.venv/bin/python"), "python3"].find((p) => {
  try {
    execFileSync(p, ["-c", "import numpy"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});

describe("save and load", () => {
  it("round-trips every built-in type with the format chosen by type", async () => {
    const root = tempDir();
    const exp = await experiment("a", { root, capture: false });
    const run = await exp.start();
    const values: [string, unknown, string][] = [
      ["obj", { weights: [1, 2], nested: { ok: true } }, "json"],
      ["arr", [1, "two", null], "json"],
      ["text", "hello\nworld", "text"],
      ["buf", Buffer.from([1, 2, 3]), "bytes"],
      ["u8", new Uint8Array([4, 5]), "bytes"],
      ["f64", new Float64Array([1.5, NaN, -Infinity]), "npy"],
      ["i32", new Int32Array([-1, 2]), "npy"],
      ["map", new Map<unknown, unknown>([["a", 1], [2, new Set([3])]]), "json"],
      ["set", new Set(["x", "y"]), "json"],
      ["date", new Date("2020-01-02T03:04:05.000Z"), "json"],
      ["mixed", { when: new Date(0), big: 12345678901234567890n, nan: NaN, inner: new Map([["k", new Float32Array([1])]]) }, "json"],
    ];
    for (const [name, v, format] of values) {
      const rec = await run.save(v, name);
      assert.equal(rec.format, format, name);
    }
    await run.save(aq.table({ a: [1, 2], b: ["x", "y"] }), "table");
    await run.end();
    const again = await exp.getRun(run.id);
    for (const [name, v] of values) assert.deepEqual(await again.load(name), v, name);
    assert.ok(Buffer.isBuffer(await again.load("buf")));
    assert.ok(!Buffer.isBuffer(await again.load("u8")));
    const t = (await again.load("table")) as aq.ColumnTable;
    assert.deepEqual(t.objects(), [{ a: 1, b: "x" }, { a: 2, b: "y" }]);
    assert.equal(fs.readFileSync(path.join(root, "a/1/artifacts/table.csv"), "utf8"), "a,b\n1,x\n2,y\n");
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, "a/1/artifacts/obj.json"), "utf8")), { weights: [1, 2], nested: { ok: true } });
  });

  it("gives an existing name a versioned name; load() gives the newest or an exact version", async () => {
    const root = tempDir();
    const exp = await experiment("a", { root, capture: false });
    const run = await exp.start();
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await run.save({ i }, "model")).file);
    assert.deepEqual(names, ["artifacts/model.json", "artifacts/model_1.json", "artifacts/model_2.json"]);
    assert.deepEqual(await run.load("model"), { i: 2 });
    assert.deepEqual(await run.load("model", { version: 0 }), { i: 0 });
    assert.deepEqual(await run.load("model_1"), { i: 1 });
    await assert.rejects(run.load("nope"), /No artifact "nope".*"model"/);
    await run.end();
  });

  it("writes .npy files that NumPy loads", { skip: python ? false : "NumPy is not installed (npm test installs it in .venv)" }, async () => {
    const root = tempDir();
    const exp = await experiment("a", { root, capture: false });
    const run = await exp.start();
    await run.save(new Float32Array([1, 2, 3, 4, 5, 6]), "m", { shape: [2, 3] });
    await run.save(new BigInt64Array([1n, -2n]), "b");
    await run.end();
    const out = execFileSync(python!, ["-c", `import numpy as np; a=np.load("${root}/a/1/artifacts/m.npy"); b=np.load("${root}/a/1/artifacts/b.npy"); print(a.dtype, a.shape, a.sum(), b.dtype, b.tolist())`]).toString().trim();
    assert.equal(out, "float32 (2, 3) 21.0 int64 [1, -2]");
  });

  it("adds a custom saver, tried before the built-ins", async () => {
    class Vec {
      constructor(readonly xs: number[]) {}
    }
    const exp = await experiment("a", { root: tempDir(), capture: false });
    exp.addSaver((v) => v instanceof Vec, { format: "vec", ext: ".vec", write: (v) => (v as Vec).xs.join(" "), read: (b) => new Vec(b.toString().split(" ").map(Number)) });
    const run = await exp.start();
    const rec = await run.save(new Vec([1, 2]), "v");
    assert.equal(rec.file, "artifacts/v.vec");
    const back = await run.load("v");
    assert.ok(back instanceof Vec);
    assert.deepEqual((back as Vec).xs, [1, 2]);
    await run.end();
  });

  it("refuses names that would leave the run's folder, and writes nothing", async () => {
    const root = tempDir();
    const exp = await experiment("a", { root, capture: false });
    const run = await exp.start();
    for (const bad of ["../x", "../../etc/passwd", "/abs/path", "a/../../b", "nul\u0000byte", "", "C:\\x", "a//b"]) {
      await assert.rejects(run.save({ a: 1 }, bad), (e: unknown) => isLabnoteError(e) && e.code === "INVALID_NAME", bad);
    }
    await run.save({ ok: 1 }, "plots/one");
    await run.end();
    assert.deepEqual(fs.readdirSync(root).sort(), [STORE_DIR, "a"].filter((x) => fs.existsSync(path.join(root, x))));
    assert.ok(fs.existsSync(path.join(root, "a/1/artifacts/plots/one.json")));
    assert.ok(!fs.existsSync(path.join(root, "x.json")));
    await assert.rejects(experiment("../evil", { root }), /Invalid experiment name/);
  });

  it("refuses unserializable values with an error that says where", async () => {
    const exp = await experiment("a", { root: tempDir(), capture: false });
    const run = await exp.start();
    const cyclic: Record<string, unknown> = { a: { b: {} } };
    (cyclic.a as Record<string, Record<string, unknown>>).b.back = cyclic;
    await assert.rejects(run.save(cyclic, "c"), (e: unknown) => isLabnoteError(e) && e.code === "UNSERIALIZABLE" && e.message.includes("$.a.b.back"));
    await assert.rejects(run.save({ f: () => 1 }, "f"), /\$\.f is a function/);
    await assert.rejects(run.save(undefined, "u"), /has no saver/);
    assert.equal(run.artifactList().length, 0);
    await run.end();
  });

  it("addArtifact copies a file with its sha256 and size; addCheckpoint keeps checkpoints apart", async () => {
    const root = tempDir();
    const src = path.join(tempDir(), "plot.png");
    fs.writeFileSync(src, Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const exp = await experiment("a", { root, capture: false });
    const run = await exp.start();
    const a = await run.addArtifact(src, { name: "loss-curve.png", metadata: { dpi: 96 } });
    assert.equal(a.size, 7);
    assert.equal(a.sha256, require("node:crypto").createHash("sha256").update(fs.readFileSync(src)).digest("hex"));
    assert.equal(a.mediaType, "image/png");
    assert.deepEqual(a.metadata, { dpi: 96 });
    const named = await run.addArtifact(src, { name: "samples" });
    assert.equal(named.name, "samples");
    assert.equal(named.file, "artifacts/samples.png", "a name without an extension keeps the file's");
    assert.equal(named.mediaType, "image/png");
    const c = await run.addCheckpoint(src);
    assert.equal(c.file, "checkpoints/plot.png");
    await assert.rejects(run.addArtifact(path.join(root, "missing.bin")), /Cannot read .*missing\.bin: no such file/);
    await run.end();
    assert.ok(fs.existsSync(path.join(root, "a/1/artifacts/loss-curve.png")));
    const again = await exp.getRun(1);
    assert.deepEqual(await again.load("loss-curve"), fs.readFileSync(src));
  });

  it("addResource stores a file once across runs, by hash", async () => {
    const root = tempDir();
    const data = path.join(tempDir(), "data.csv");
    fs.writeFileSync(data, "x\n1\n");
    const exp = await experiment("a", { root, capture: false });
    for (let i = 0; i < 2; i++) await exp.run(async (run) => void (await run.addResource(data)));
    const [r1, r2] = await exp.history();
    assert.equal(r1.resources[0].sha256, r2.resources[0].sha256);
    assert.equal(r1.resources[0].path, data);
    const blobs = fs.readdirSync(path.join(root, BLOBS_DIR), { recursive: true }).filter((f) => String(f).length > 10);
    assert.equal(blobs.length, 1);
  });
});
