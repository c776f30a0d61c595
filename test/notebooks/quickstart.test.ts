/**
 * notebooks/quickstart.ipynb, executed by nbclient with the real tslab kernel: a logistic
 * regression trained with labnote recording five runs (defaults, named configs, a sweep),
 * live cards, a saved model and the runs table.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { experiment } from "../../src";
import {
  MIME,
  bundles,
  cardSummary,
  cards,
  cellIndex,
  cellText,
  checkCardBundles,
  metricCounts,
  readBlob,
  readNotebook,
  readRecord,
  runNotebook,
  runNumbers,
  savedCards,
  sourceText,
  type NotebookRun,
  type ProgressPayload,
  type TablePayload,
} from "./support";

const NAMES = ["baseline", "quick, regularized", "lr=0.01", "lr=0.3", "lr=3"];

describe("notebooks/quickstart.ipynb", () => {
  let nb: NotebookRun;
  before(async () => {
    nb = await runNotebook("quickstart.ipynb");
  });
  after(() => nb?.cleanup());

  it("is committed as a tslab notebook without outputs", () => {
    const committed = readNotebook("quickstart.ipynb");
    assert.equal(committed.nbformat, 4);
    assert.equal(committed.metadata.kernelspec.name, "tslab");
    assert.equal(committed.metadata.kernelspec.language, "typescript");
    for (const c of committed.cells) if (c.cell_type === "code") assert.deepEqual(c.outputs, []);
    assert.ok(committed.cells.filter((c) => c.cell_type === "markdown").length >= 5);
  });

  it("runs every cell without an error", () => {
    assert.equal(nb.result.error, null);
    for (const c of nb.result.notebook.cells) if (c.cell_type === "code") assert.ok(c.execution_count, "a code cell did not run");
  });

  it("records five completed runs with their configs", () => {
    assert.deepEqual(runNumbers(nb.root, "quickstart"), [1, 2, 3, 4, 5]);
    const records = [1, 2, 3, 4, 5].map((n) => readRecord(nb.root, "quickstart", n));
    assert.deepEqual(records.map((r) => r.name), NAMES);
    for (const r of records) {
      assert.equal(r.status, "completed");
      assert.equal(r.config.seed, 7);
    }
    assert.deepEqual(records[0].modified, []);
    assert.deepEqual(records[0].tags, ["defaults"]);
    assert.equal(records[0].endedBy, "cell");
    assert.deepEqual(records[1].named, ["quick", "regularized"]);
    assert.equal(records[1].config.steps, 60);
    assert.equal(records[1].config.l2, 0.01);
    assert.deepEqual([...records[1].modified].sort(), ["l2", "steps"]);
    assert.equal(records[1].endedBy, "callback");
    for (const [i, lr] of [0.01, 0.3, 3].entries()) {
      const r = records[2 + i];
      assert.equal(r.config.lr, lr);
      assert.deepEqual(r.modified, ["lr"]);
      assert.deepEqual(r.tags, ["sweep"]);
      assert.deepEqual(r.result && Object.keys(r.result as object).sort(), ["acc", "loss"]);
    }
  });

  it("writes a metric point per step to metrics.csv", () => {
    for (const n of [1, 3, 4, 5]) assert.deepEqual(metricCounts(nb.root, "quickstart", n), { loss: 300, acc: 300, test_loss: 1, test_acc: 1 });
    assert.deepEqual(metricCounts(nb.root, "quickstart", 2), { loss: 60, acc: 60, test_loss: 1, test_acc: 1 });
    const baseline = readRecord(nb.root, "quickstart", 1);
    assert.equal(baseline.metrics.loss.count, 300);
    assert.ok(baseline.metrics.loss.last < baseline.metrics.loss.max, "the loss went down");
    assert.ok(baseline.metrics.test_acc.last > 0.7, `test accuracy ${baseline.metrics.test_acc.last}`);
  });

  it("saves each run's model as a JSON artifact that loads back", async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      const r = readRecord(nb.root, "quickstart", n);
      assert.deepEqual(
        r.artifacts.map((a) => [a.name, a.file, a.format]),
        [["model", "artifacts/model.json", "json"]],
      );
      const model = JSON.parse(fs.readFileSync(path.join(nb.root, "quickstart", String(n), "artifacts", "model.json"), "utf8"));
      assert.equal(model.w.length, 2);
      assert.equal(typeof model.b, "number");
    }
    const exp = await experiment("quickstart", { root: nb.root, capture: false });
    const again = await exp.getRun("quickstart/4");
    assert.deepEqual(await again.load("model"), JSON.parse(fs.readFileSync(path.join(nb.root, "quickstart", "4", "artifacts", "model.json"), "utf8")));
    assert.equal(again.metric("loss").values.length, 300);
  });

  it("records the cell that started each run, with its source", () => {
    const baseline = readRecord(nb.root, "quickstart", 1);
    assert.equal(baseline.cells.length, 1);
    const [cell] = baseline.cells;
    assert.equal(cell.ok, true);
    const index = cellIndex(nb.result, `exp.start({ name: "baseline"`);
    assert.equal(cell.executionCount, nb.result.notebook.cells[index].execution_count);
    assert.equal(readBlob(nb.root, cell.sha256), sourceText(nb.result.notebook.cells[index].source as string));
    assert.ok(cell.notebook?.endsWith("quickstart.ipynb"));
  });

  it("shows a live card per run, with all MIME types, updated in place, final state completed", () => {
    checkCardBundles(nb.messages);
    const all = cards(nb.messages);
    assert.deepEqual([...all.keys()], [1, 2, 3, 4, 5].map((n) => `quickstart/${n}`));
    for (const card of all.values()) {
      assert.equal(card.final.status, "completed");
      assert.equal(card.shown.content.data[MIME.run].status, "running");
      assert.deepEqual(card.final.artifacts.map((a) => a.name), ["model"]);
      assert.ok(card.final.endTime !== undefined);
    }
    const baseline = all.get("quickstart/1")!;
    assert.deepEqual(cardSummary(baseline.final), { loss: 300, acc: 300, test_loss: 1, test_acc: 1 });
    assert.deepEqual(cardSummary(all.get("quickstart/2")!.final), { loss: 60, acc: 60, test_loss: 1, test_acc: 1 });
    assert.deepEqual(
      all.get("quickstart/2")!.final.config.filter((c) => c.modified).map((c) => c.key).sort(),
      ["l2", "steps"],
    );
    // Live: while the baseline trained, its card was updated with status "running".
    const live = baseline.messages.filter((m) => m.msg_type === "update_display_data" && m.content.data[MIME.run].status === "running");
    assert.ok(live.length >= 1, "the baseline's card was not updated while it ran");
    // Updates are coalesced: far fewer messages than logged points.
    assert.ok(baseline.messages.length < 60, `${baseline.messages.length} card messages for 300 steps`);
  });

  it("keeps the final cards in the saved notebook", () => {
    const baselineCell = cellIndex(nb.result, `exp.start({ name: "baseline"`);
    const [saved] = savedCards(nb.result, baselineCell);
    assert.equal(saved.id, "quickstart/1");
    assert.equal(saved.status, "completed");
    const sweep = savedCards(nb.result, cellIndex(nb.result, "for (const lr of"));
    assert.deepEqual(sweep.map((p) => [p.id, p.status]), [
      ["quickstart/3", "completed"],
      ["quickstart/4", "completed"],
      ["quickstart/5", "completed"],
    ]);
    assert.match(cellText(nb.result, cellIndex(nb.result, "for (const lr of")), /lr=0\.01: test accuracy 0\.\d+\nlr=0\.3: test accuracy/);
  });

  it("shows a progress bar per run that ends done", () => {
    const progress = bundles(nb.messages, MIME.progress);
    const finals = progress.filter((m) => (m.content.data[MIME.progress] as ProgressPayload).done).map((m) => m.content.data[MIME.progress] as ProgressPayload);
    assert.deepEqual(finals.map((p) => [p.runId, p.count, p.total]), [
      ["quickstart/1", 300, 300],
      ["quickstart/2", 60, 60],
      ["quickstart/3", 300, 300],
      ["quickstart/4", 300, 300],
      ["quickstart/5", 300, 300],
    ]);
    for (const m of progress) assert.equal(m.content.data["text/plain"] !== undefined && m.content.data["text/html"] !== undefined, true);
  });

  it("shows the runs table with a row per run", () => {
    const index = cellIndex(nb.result, "await exp.table()");
    const tables = bundles(nb.result.messages[index], MIME.table);
    assert.equal(tables.length, 1);
    assert.ok(tables[0].content.data["text/html"] && tables[0].content.data["text/plain"]);
    const table = tables[0].content.data[MIME.table] as TablePayload;
    assert.equal(table.experiment, "quickstart");
    for (const col of ["id", "name", "status", "duration", "config.lr", "config.steps", "loss.last", "test_acc.last"]) assert.ok(table.columns.includes(col), `no column ${col}`);
    const col = (name: string) => table.rows.map((r) => r[table.columns.indexOf(name)]);
    assert.deepEqual([...col("id")].sort(), [1, 2, 3, 4, 5].map((n) => `quickstart/${n}`));
    assert.deepEqual(col("status"), ["completed", "completed", "completed", "completed", "completed"]);
    const lrById = Object.fromEntries(table.rows.map((r) => [r[table.columns.indexOf("id")], r[table.columns.indexOf("config.lr")]]));
    assert.deepEqual(lrById, { "quickstart/1": 0.1, "quickstart/2": 0.1, "quickstart/3": 0.01, "quickstart/4": 0.3, "quickstart/5": 3 });
    // The saved notebook keeps the table too.
    assert.ok((nb.result.notebook.cells[index].outputs ?? []).some((o) => o.data?.[MIME.table]));
  });

  it("reads the best run back from disk", () => {
    const text = cellText(nb.result, cellIndex(nb.result, "exp.getRun(String(ranked[0].id))"));
    assert.match(text, /^quickstart\/\d .* completed config: \{"lr":/m);
    assert.match(text, /loss points: (300|60) model: \{"w":\[/);
  });
});
