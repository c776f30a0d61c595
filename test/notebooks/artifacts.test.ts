/**
 * notebooks/artifacts.ipynb, executed by nbclient with the real tslab kernel: every kind of
 * value saved and loaded, versioned names, added files, checkpoints, resources and a custom
 * saver; the files checked on disk, the .npy files with NumPy.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { experiment } from "../../src";
import {
import { blobPath } from "../../src/protocol";
  cards,
  cellIndex,
  cellText,
  checkCardBundles,
  python,
  readNotebook,
  readRecord,
  runNotebook,
  runNumbers,
  savedCards,
  type NotebookRun,
  type RunRecord,
} from "./support";

const EXP = "artifacts";

/** Every artifact the notebook saves: stored file, format, recorded type, and the type it loads back as. */
const EXPECTED: [string, string, string, string][] = [
  ["artifacts/architecture.json", "json", "Object", "Object"],
  ["artifacts/losses.json", "json", "Array", "Array"],
  ["artifacts/notes.txt", "text", "string", "string"],
  ["artifacts/raw-buffer.bin", "bytes", "Buffer", "Buffer"],
  ["artifacts/raw-bytes.bin", "bytes", "Uint8Array", "Uint8Array"],
  ["artifacts/weights.npy", "npy", "Float32Array", "Float32Array"],
  ["artifacts/constants.npy", "npy", "Float64Array", "Float64Array"],
  ["artifacts/labels.npy", "npy", "Int32Array", "Int32Array"],
  ["artifacts/predictions.csv", "csv", "ColumnTable", "ColumnTable"],
  ["artifacts/vocabulary.json", "json", "Map", "Map"],
  ["artifacts/seen-files.json", "json", "Set", "Set"],
  ["artifacts/data-snapshot.json", "json", "Date", "Date"],
  ["artifacts/mixed.json", "json", "Object", "Object"],
  ["artifacts/model.json", "json", "Object", "Object"],
  ["artifacts/model_1.json", "json", "Object", "Object"],
  ["artifacts/model_2.json", "json", "Object", "Object"],
  ["artifacts/loss-curve.svg", "file", "file", "Buffer"],
  ["checkpoints/epoch-3.ckpt", "checkpoint", "file", "Buffer"],
  ["artifacts/tokens.vocab", "vocab", "Vocab", "Vocab"],
];

describe("notebooks/artifacts.ipynb", () => {
  let nb: NotebookRun;
  let record: RunRecord;
  let runDir: string;
  before(async () => {
    nb = await runNotebook("artifacts.ipynb");
    record = readRecord(nb.root, EXP, 1);
    runDir = path.join(nb.root, EXP, "1");
  });
  after(() => nb?.cleanup());

  it("is committed as a tslab notebook without outputs", () => {
    const committed = readNotebook("artifacts.ipynb");
    assert.equal(committed.metadata.kernelspec.name, "tslab");
    for (const c of committed.cells) if (c.cell_type === "code") assert.deepEqual(c.outputs, []);
  });

  it("runs every cell without an error and records one completed run", () => {
    assert.equal(nb.result.error, null);
    assert.deepEqual(runNumbers(nb.root, EXP), [1]);
    assert.equal(record.status, "completed");
    assert.equal(record.endedBy, "end");
  });

  it("records every artifact with its format, type, size and sha256", () => {
    assert.deepEqual(
      record.artifacts.map((a) => [a.file, a.format, a.type]),
      EXPECTED.map(([file, format, type]) => [file, format, type]),
    );
    for (const a of record.artifacts) {
      const data = fs.readFileSync(path.join(runDir, a.file));
      assert.equal(a.size, data.length, a.file);
      assert.equal(a.sha256, createHash("sha256").update(data).digest("hex"), a.file);
    }
  });

  it("writes plain files a person can read", () => {
    const read = (f: string) => fs.readFileSync(path.join(runDir, f), "utf8");
    assert.deepEqual(JSON.parse(read("artifacts/architecture.json")), { layers: [2, 8, 1], activation: "tanh", dropout: 0.1 });
    assert.deepEqual(JSON.parse(read("artifacts/losses.json")), [0.9, 0.5, 0.31, 0.2]);
    assert.equal(read("artifacts/notes.txt"), "lr 0.1 diverged after epoch 3; 0.03 is stable.\n");
    assert.deepEqual(fs.readFileSync(path.join(runDir, "artifacts/raw-buffer.bin")), Buffer.from("labnote\u0000bytes"));
    assert.deepEqual([...fs.readFileSync(path.join(runDir, "artifacts/raw-bytes.bin"))], [0, 1, 2, 253, 254, 255]);
    assert.equal(read("artifacts/predictions.csv").trim(), "x,y,label,p\n0.1,1.2,a,0.91\n0.7,-0.3,b,0.12\n-0.4,0.5,a,0.77");
    assert.equal(read("artifacts/tokens.vocab"), "<pad>\nthe\ncat\nsat\n");
    assert.match(read("artifacts/loss-curve.svg"), /^<svg /);
    assert.deepEqual(JSON.parse(read("checkpoints/epoch-3.ckpt")), { epoch: 3, w: [0.18, 0.27] });
  });

  it("writes .npy files that NumPy loads with the right dtype, shape and values", () => {
    const files = ["weights", "constants", "labels"].map((n) => path.join(runDir, "artifacts", `${n}.npy`));
    const loaded = python(
      `import json, sys, numpy as np\n` +
        `out = []\n` +
        `for f in ${JSON.stringify(files)}:\n` +
        `    a = np.load(f)\n` +
        `    out.append({"dtype": str(a.dtype), "shape": list(a.shape), "values": a.ravel().tolist()})\n` +
        `print(json.dumps(out))`,
    ) as { dtype: string; shape: number[]; values: number[] }[];
    assert.deepEqual(loaded.map((a) => [a.dtype, a.shape]), [
      ["float32", [2, 3]],
      ["float64", [3]],
      ["int32", [8]],
    ]);
    assert.deepEqual(loaded[0].values, Array.from(Float32Array.from({ length: 6 }, (_, i) => (i - 2.5) / 10)));
    assert.deepEqual(loaded[1].values, [Math.PI, Math.E, Math.SQRT2]);
    assert.deepEqual(loaded[2].values, [3, 1, 4, 1, 5, 9, 2, 6]);
  });

  it("tags Map, Set and Date in JSON so they load back as themselves", async () => {
    const tagged = JSON.parse(fs.readFileSync(path.join(runDir, "artifacts/vocabulary.json"), "utf8"));
    assert.equal(tagged.$labnote, "Map");
    const exp = await experiment(EXP, { root: nb.root, capture: false });
    const run = await exp.getRun(1);
    const vocabulary = await run.load("vocabulary");
    assert.ok(vocabulary instanceof Map);
    assert.deepEqual([...vocabulary], [["cat", 0], ["dog", 1], ["bird", 2]]);
    const seen = await run.load("seen-files");
    assert.ok(seen instanceof Set);
    assert.deepEqual([...seen], ["train.csv", "test.csv"]);
    const snapshot = await run.load("data-snapshot");
    assert.ok(snapshot instanceof Date);
    assert.equal(snapshot.toISOString(), "2024-05-01T12:00:00.000Z");
    const mixed = (await run.load("mixed")) as { when: Date; classes: Set<number>; index: Map<number, string> };
    assert.equal(mixed.when.getTime(), 0);
    assert.deepEqual([...mixed.classes], [0, 1]);
    assert.deepEqual([...mixed.index], [[1, "one"]]);
    const weights = await run.load("weights");
    assert.ok(weights instanceof Float32Array);
    assert.equal(weights.length, 6);
  });

  it("keeps every version of a name and loads the newest by default", async () => {
    assert.deepEqual(
      record.artifacts.filter((a) => a.name === "model").map((a) => [a.version, a.file]),
      [
        [0, "artifacts/model.json"],
        [1, "artifacts/model_1.json"],
        [2, "artifacts/model_2.json"],
      ],
    );
    assert.equal(cellText(nb.result, cellIndex(nb.result, `run.load("model", { version: 0 })`)).replace(/\s+/g, " ").trim(), "[ 3, 1, 2 ]");
    const exp = await experiment(EXP, { root: nb.root, capture: false });
    const run = await exp.getRun(1);
    assert.deepEqual(await run.load("model"), { epoch: 3, w: [0.18, 0.27] });
    assert.deepEqual(await run.load("model", { version: 1 }), { epoch: 2, w: [0.15, 0.25] });
  });

  it("copies added files, checkpoints and resources, resources stored once by hash", () => {
    const plot = record.artifacts.find((a) => a.file === "artifacts/loss-curve.svg")!;
    assert.equal(plot.kind, "artifact");
    assert.equal(plot.mediaType, "image/svg+xml");
    assert.deepEqual(plot.metadata, { kind: "plot" });
    assert.ok(plot.source?.endsWith("loss.svg"));
    const checkpoint = record.artifacts.find((a) => a.file === "checkpoints/epoch-3.ckpt")!;
    assert.equal(checkpoint.kind, "checkpoint");
    assert.equal(record.resources.length, 1);
    const [resource] = record.resources;
    assert.ok(resource.path.endsWith("points.csv"));
    const blob = fs.readFileSync(path.join(nb.root, blobPath(resource.sha256)), "utf8");
    assert.equal(blob, "x,y,label\n0.1,1.2,a\n0.7,-0.3,b\n");
    assert.equal(resource.size, blob.length);
  });

  it("loads every artifact back from history with the type it was saved with", () => {
    const text = cellText(nb.result, cellIndex(nb.result, "const saved = await exp.getRun(run.id)"));
    const lines = text.trim().split("\n");
    assert.equal(lines.length, EXPECTED.length);
    EXPECTED.forEach(([file, format, , loaded], i) => {
      assert.match(lines[i], new RegExp(`^(artifact|checkpoint)\\s+${file.replace(/\./g, "\\.")}\\s+${format}\\s+→ ${loaded}$`));
    });
  });

  it("shows the loaded values in the cells that load them", () => {
    assert.match(cellText(nb.result, cellIndex(nb.result, "const loadedWeights")), /^Float32Array \[-0\.25, -0\.15, -0\.05, 0\.05, 0\.15, 0\.25\]/);
    assert.match(cellText(nb.result, cellIndex(nb.result, "const loadedTable")), /label: 'b', p: 0\.12/);
    assert.equal(cellText(nb.result, cellIndex(nb.result, "back.when instanceof Date")).replace(/\s+/g, " ").trim(), "[ true, true, true, true ]");
    assert.equal(cellText(nb.result, cellIndex(nb.result, "class Vocab")).replace(/\s+/g, " ").trim(), "[ true, 2 ]");
  });

  it("lists the artifacts on the run's card, final state in the saved notebook", () => {
    checkCardBundles(nb.messages);
    const card = cards(nb.messages).get(`${EXP}/1`)!;
    assert.equal(card.final.status, "completed");
    assert.deepEqual(
      card.final.artifacts.map((a) => [a.name, a.format]),
      record.artifacts.map((a) => [a.version ? `${a.name}_${a.version}` : a.name, a.format]),
    );
    for (const a of card.final.artifacts) assert.ok(fs.existsSync(path.join(nb.dir, a.path)), `the card's path ${a.path} does not exist`);
    const [saved] = savedCards(nb.result, cellIndex(nb.result, `name: "every type"`));
    assert.equal(saved.status, "completed");
    assert.equal(saved.artifacts.length, EXPECTED.length);
  });
});
