/**
 * notebooks/config.ipynb, executed by nbclient with the real tslab kernel: defaults, named
 * configs in order, dotted updates, configs from YAML files, the read-only config, added keys
 * and injection into functions.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  cards,
  cellIndex,
  cellText,
  checkCardBundles,
  readNotebook,
  readRecord,
  runNotebook,
  runNumbers,
  type NotebookRun,
} from "./support";

const EXP = "config";
const DEFAULTS = { lr: 0.01, epochs: 10, batchSize: 32, optimizer: { name: "sgd", momentum: 0.9 } };

describe("notebooks/config.ipynb", () => {
  let nb: NotebookRun;
  before(async () => {
    nb = await runNotebook("config.ipynb");
  });
  after(() => nb?.cleanup());

  it("is committed as a tslab notebook without outputs", () => {
    const committed = readNotebook("config.ipynb");
    assert.equal(committed.metadata.kernelspec.name, "tslab");
    for (const c of committed.cells) if (c.cell_type === "code") assert.deepEqual(c.outputs, []);
  });

  it("runs every cell without an error", () => {
    assert.equal(nb.result.error, null);
    assert.deepEqual(runNumbers(nb.root, EXP), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(runNumbers(nb.root, "config-yaml"), [1]);
    for (let n = 1; n <= 7; n++) assert.equal(readRecord(nb.root, EXP, n).status, "completed");
  });

  it("applies named configs in the order asked", () => {
    const a = readRecord(nb.root, EXP, 1);
    const b = readRecord(nb.root, EXP, 2);
    assert.deepEqual(a.named, ["fast", "careful"]);
    assert.deepEqual(b.named, ["careful", "fast"]);
    assert.deepEqual(a.config, { ...DEFAULTS, lr: 0.001, epochs: 1 });
    assert.deepEqual(b.config, { ...DEFAULTS, lr: 0.1, epochs: 1 });
    assert.deepEqual([...a.modified].sort(), ["epochs", "lr"]);
    assert.match(cellText(nb.result, cellIndex(nb.result, `named: ["fast", "careful"]`)), /'fast then careful': 0\.001, 'careful then fast': 0\.1/);
  });

  it("merges dotted and nested updates, and records the modified keys", () => {
    const r = readRecord(nb.root, EXP, 3);
    assert.deepEqual(r.config, { ...DEFAULTS, batchSize: 64, optimizer: { name: "adam", momentum: 0.5 } });
    assert.deepEqual([...r.modified].sort(), ["batchSize", "optimizer.momentum", "optimizer.name"]);
    assert.deepEqual(r.added, []);
    const card = cards(nb.messages).get(`${EXP}/3`)!;
    assert.deepEqual(
      card.final.config.filter((c) => c.modified).map((c) => [c.key, c.value]).sort(),
      [
        ["batchSize", "64"],
        ["optimizer.momentum", "0.5"],
        ["optimizer.name", '"adam"'],
      ],
    );
    assert.ok(card.final.config.filter((c) => !c.modified).every((c) => ["lr", "epochs"].includes(c.key)));
  });

  it("loads defaults and named configs from YAML files", () => {
    const r = readRecord(nb.root, "config-yaml", 1);
    assert.deepEqual(r.config, { lr: 0.05, epochs: 20, model: { hidden: [8], activation: "relu" } });
    assert.deepEqual(r.modified, ["model.hidden"]);
    assert.deepEqual(r.named, ["small"]);
    assert.match(cellText(nb.result, cellIndex(nb.result, "base.yaml")), /sameAsLoadConfig: true/);
  });

  it("refuses changes to a run's config with an error that says what to do", () => {
    const text = cellText(nb.result, cellIndex(nb.result, `name: "frozen"`));
    assert.match(text, /^LabnoteError \[CONFIG_FROZEN\]: Cannot change run\.config\.lr: .*exp\.start\(\{ config:/m);
    assert.match(text, /^0\.01$/m);
    assert.equal(readRecord(nb.root, EXP, 4).config.lr, 0.01);
  });

  it("keeps a key the defaults do not have, and marks it added", () => {
    const r = readRecord(nb.root, EXP, 5);
    assert.equal(r.config.learning_rate, 0.3);
    assert.deepEqual(r.added, ["learning_rate"]);
    // added, not also counted as modified
    assert.deepEqual(r.modified, []);
    const entry = cards(nb.messages).get(`${EXP}/5`)!.final.config.find((c) => c.key === "learning_rate");
    assert.deepEqual(entry && [entry.value, entry.added, entry.modified], ["0.3", true, false]);
  });

  it(
    "warns about the added key in the cell's output, naming the closest known key",
    () => {
      const stderr = cellText(nb.result, cellIndex(nb.result, `learning_rate: 0.3`), "stderr");
      assert.match(stderr, /config key "learning_rate" is not in the defaults of experiment "config".*did you mean "lr"\?/);
    },
  );

  it("injects config values into the arguments a call leaves out", () => {
    assert.equal(cellText(nb.result, cellIndex(nb.result, "const describeTraining")).trim(), "lr=0.01 epochs=10 warmup=3");
    const withRun = cellText(nb.result, cellIndex(nb.result, `name: "fast", named: ["fast"]`));
    assert.deepEqual([...withRun.matchAll(/'([^']*)'/g)].map((m) => m[1]), [
      "lr=0.1 epochs=1 warmup=3",
      "lr=0.5 epochs=1 warmup=3",
      "lr=0.1 epochs=7 warmup=3",
    ]);
  });

  it("fills an options object and looks names up under a prefix", () => {
    const text = cellText(nb.result, cellIndex(nb.result, "const makeOptimizer")).replace(/\s+/g, " ");
    assert.match(text, /\{ lr: 0\.01, batchSize: 32 \}, \{ lr: 0\.01, batchSize: 8 \}, 'adam \(momentum 0\)', 'rmsprop \(momentum 0\)'/);
  });

  it("lists every run's modified and added keys from the history", () => {
    const text = cellText(nb.result, cellIndex(nb.result, "(await exp.history())"));
    assert.match(text, /^config\/3 tuned\s+completed modified=\[batchSize, optimizer\.name, optimizer\.momentum\] added=\[\]$/m);
    assert.match(text, /^config\/5 typo\s+completed modified=\[\] added=\[learning_rate\]$/m);
    assert.equal(text.trim().split("\n").length, 7);
  });

  it("sends every card with all four MIME types, under 64 KB, and updates each", () => {
    checkCardBundles(nb.messages);
    assert.deepEqual([...cards(nb.messages).keys()].sort(), [...[1, 2, 3, 4, 5, 6, 7].map((n) => `${EXP}/${n}`), "config-yaml/1"].sort());
    for (const card of cards(nb.messages).values()) assert.equal(card.final.status, "completed");
  });
});
