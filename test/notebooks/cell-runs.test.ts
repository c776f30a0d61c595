/**
 * notebooks/cell-runs.ipynb, executed by nbclient with the real tslab kernel: runs scoped to
 * their cell, a run spanning cells, a re-run, a failing cell and the cells read back. Then,
 * step by step in a live kernel, what the notebook can only describe: an interrupted cell
 * and a killed kernel.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { experiment } from "../../src";
import { errorText, KernelSession, streamText } from "../helpers";
import {
  MIME,
  cards,
  cellIndex,
  cellText,
  checkCardBundles,
  makeWorkDir,
  metricCounts,
  readBlob,
  readMetrics,
  readNotebook,
  readRecord,
  runNotebook,
  runNumbers,
  savedCards,
  sourceText,
  type NotebookRun,
} from "./support";

const EXP = "cell-runs";

describe("notebooks/cell-runs.ipynb", () => {
  let nb: NotebookRun;
  before(async () => {
    nb = await runNotebook("cell-runs.ipynb");
  });
  after(() => nb?.cleanup());

  it("is committed as a tslab notebook without outputs, the failing cell tagged", () => {
    const committed = readNotebook("cell-runs.ipynb");
    assert.equal(committed.metadata.kernelspec.name, "tslab");
    for (const c of committed.cells) if (c.cell_type === "code") assert.deepEqual(c.outputs, []);
    const tagged = committed.cells.filter((c) => c.metadata.tags?.includes("raises-exception"));
    assert.equal(tagged.length, 1);
    assert.match(sourceText(tagged[0].source), /throw new Error/);
  });

  it("runs to the end; only the tagged cell fails", () => {
    assert.equal(nb.result.error, null);
    const failing = cellIndex(nb.result, `name: "diverging"`);
    for (const [i, c] of nb.result.notebook.cells.entries()) {
      if (c.cell_type !== "code") continue;
      assert.ok(c.execution_count, `cell ${i} did not run`);
      if (i !== failing) assert.equal(errorText(nb.result.messages[i].filter((m) => m.content.name === "stderr")), undefined, `cell ${i} wrote to stderr`);
    }
    assert.deepEqual(runNumbers(nb.root, EXP), [1, 2, 3, 4, 5]);
  });

  it("ends a cell-scoped run with its cell", () => {
    const start = cellIndex(nb.result, `exp.start({ name: "scoped" })`);
    assert.equal(cellText(nb.result, start).trim(), "running");
    assert.equal(cellText(nb.result, start + 1).trim(), "completed");
    const r = readRecord(nb.root, EXP, 1);
    assert.equal(r.name, "scoped");
    assert.equal(r.status, "completed");
    assert.equal(r.endedBy, "cell");
    assert.equal(r.cells.length, 1);
    assert.equal(r.cells[0].ok, true);
    assert.deepEqual(metricCounts(nb.root, EXP, 1), { loss: 20 });
    const card = cards(nb.messages).get(`${EXP}/1`)!;
    assert.equal(card.final.status, "completed");
    // The final card is sent before the cell's reply: it is among the cell's own messages.
    assert.ok(nb.result.messages[start].includes(card.messages.at(-1)!));
    assert.equal(savedCards(nb.result, start)[0].status, "completed");
  });

  it("keeps a spanning run open across cells until run.end()", () => {
    const first = cellIndex(nb.result, `name: "long", span: true`);
    assert.equal(cellText(nb.result, first + 1).trim(), "running");
    assert.equal(cellText(nb.result, first + 2).trim(), "completed");
    const r = readRecord(nb.root, EXP, 2);
    assert.equal(r.status, "completed");
    assert.equal(r.endedBy, "end");
    assert.deepEqual(r.tags, ["span"]);
    assert.deepEqual(readMetrics(nb.root, EXP, 2).map((p) => [p.metric, p.step, p.value]), [
      ["loss", 0, 0.9],
      ["loss", 1, 0.5],
      ["loss", 2, 0.2],
    ]);
    // The card shown in the first cell is updated from the last one, and saved in its final state.
    const card = cards(nb.messages).get(`${EXP}/2`)!;
    assert.ok(nb.result.messages[first].includes(card.shown));
    assert.ok(nb.result.messages[first + 2].includes(card.messages.at(-1)!));
    assert.equal(card.final.status, "completed");
    assert.equal(card.final.metrics[0].count, 3);
    const [saved] = savedCards(nb.result, first);
    assert.equal(saved.status, "completed");
    assert.equal(saved.metrics[0].count, 3);
  });

  it("records each cell executed while the spanning run was open, with its source", () => {
    const first = cellIndex(nb.result, `name: "long", span: true`);
    const r = readRecord(nb.root, EXP, 2);
    const cells = nb.result.notebook.cells;
    assert.deepEqual(
      r.cells.map((c) => c.executionCount),
      [first, first + 1, first + 2].map((i) => cells[i].execution_count),
    );
    assert.deepEqual(
      r.cells.map((c) => readBlob(nb.root, c.sha256)),
      [first, first + 1, first + 2].map((i) => sourceText(cells[i].source as string)),
    );
    assert.deepEqual(r.cells.slice(0, 2).map((c) => c.ok), [true, true]);
    for (const c of r.cells.slice(0, 2)) assert.ok(c.endTime! >= c.startTime);
  });

  it("records the outcome of the cell that ended the spanning run", () => {
    const r = readRecord(nb.root, EXP, 2);
    assert.equal(r.cells[2].ok, true);
    assert.ok(r.cells[2].endTime !== undefined);
  });

  it("links a re-run of the same cell to the previous run", () => {
    const a = readRecord(nb.root, EXP, 3);
    const b = readRecord(nb.root, EXP, 4);
    assert.deepEqual([a.name, b.name], ["attempt", "attempt"]);
    assert.equal(a.rerunOf, undefined);
    assert.equal(b.rerunOf, `${EXP}/3`);
    assert.equal(a.cells[0].sha256, b.cells[0].sha256);
    assert.equal(cards(nb.messages).get(`${EXP}/4`)!.final.rerunOf, `${EXP}/3`);
    assert.equal(cards(nb.messages).get(`${EXP}/3`)!.final.rerunOf, undefined);
    const listed = cellText(nb.result, cellIndex(nb.result, "const attempts ="));
    assert.match(listed, /cell-runs\/3 completed rerunOf=-\ncell-runs\/4 completed rerunOf=cell-runs\/3/);
  });

  it("fails the run of a failing cell, with the error and the points logged before it", () => {
    const index = cellIndex(nb.result, `name: "diverging"`);
    assert.match(cellText(nb.result, index, "stderr"), /Error: loss diverged at step 4/);
    const r = readRecord(nb.root, EXP, 5);
    assert.equal(r.status, "failed");
    assert.equal(r.endedBy, "cell");
    assert.equal(r.error?.message, "loss diverged at step 4");
    assert.match(r.error?.stack ?? "", /loss diverged/);
    assert.equal(r.config.lr, 10);
    assert.deepEqual(r.modified, ["lr"]);
    assert.deepEqual(r.cells.map((c) => [c.ok, c.error]), [[false, "loss diverged at step 4"]]);
    assert.deepEqual(readMetrics(nb.root, EXP, 5).map((p) => p.value), [1, 10, 100, 1000, 10000]);
    const card = cards(nb.messages).get(`${EXP}/5`)!;
    assert.equal(card.final.status, "failed");
    assert.equal(card.final.error?.message, "loss diverged at step 4");
    assert.ok(nb.result.messages[index].includes(card.messages.at(-1)!));
    assert.equal(savedCards(nb.result, index)[0].status, "failed");
    assert.equal(
      cellText(nb.result, cellIndex(nb.result, "const failedId")).trim(),
      "cell-runs/5 failed: loss diverged at step 4 (5 loss points)",
    );
  });

  it("reads the cells of a run back with cells()", () => {
    const text = cellText(nb.result, cellIndex(nb.result, "again.cells()"));
    const first = cellIndex(nb.result, `name: "long", span: true`);
    for (const i of [first, first + 1, first + 2]) assert.ok(text.includes(sourceText(nb.result.notebook.cells[i].source as string).split("\n")[0]), `cell ${i} is missing`);
    assert.match(text, new RegExp(`^\\[${nb.result.notebook.cells[first].execution_count}\\] ok$`, "m"));
  });

  it("sends every card with all four MIME types, under 64 KB, and updates each", () => {
    checkCardBundles(nb.messages);
    assert.deepEqual([...cards(nb.messages).keys()], [1, 2, 3, 4, 5].map((n) => `${EXP}/${n}`));
  });
});

describe("cell-runs in a live kernel: interrupt, runs at once, kill", () => {
  let kernel: KernelSession;
  let dir: string;
  const setup = sourceText(readNotebook("cell-runs.ipynb").cells.find((c) => c.cell_type === "code")!.source);

  before(async () => {
    dir = makeWorkDir("cell-runs-kernel");
    kernel = await KernelSession.start({ cwd: dir, env: { LABNOTE_DIR: "" }, notebookPath: path.join(dir, "cell-runs.ipynb") });
    const result = await kernel.execute(setup, { timeout: 90_000 });
    assert.equal(result.status, "ok", errorText(result.messages));
  });
  after(async () => {
    await kernel?.shutdown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("ends the run of an interrupted cell as interrupted, card included", async () => {
    const running = kernel.execute(
      [
        `const looping = await exp.start({ name: "looping" });`,
        `for (let i = 0; i < 2000; i++) {`,
        `  looping.log("tick", i);`,
        `  await new Promise((r) => setTimeout(r, 10));`,
        `}`,
      ].join("\n"),
      { timeout: 60_000 },
    );
    // Wait until the run exists and has logged, then press the stop button.
    const runJson = path.join(dir, "experiments", EXP, "1", "run.json");
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(runJson) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.existsSync(runJson), "the run did not start");
    await new Promise((r) => setTimeout(r, 1000));
    await kernel.interrupt();
    const result = await running;
    assert.equal(result.status, "error");
    assert.match(errorText(result.messages) ?? "", /Interrupted asynchronously/);

    const record = readRecord(path.join(dir, "experiments"), EXP, 1);
    assert.equal(record.status, "interrupted");
    assert.equal(record.endedBy, "cell");
    assert.ok(record.metrics.tick.count > 5, `only ${record.metrics.tick.count} points before the interrupt`);
    assert.equal(record.cells[0].ok, false);

    const card = cards(result.messages).get(`${EXP}/1`);
    assert.ok(card, "no card among the cell's messages");
    assert.equal(card.final.status, "interrupted");
    assert.equal(card.shown.content.data[MIME.run].status, "running");
    // The final state came before the cell's idle status.
    const idle = result.messages.findIndex((m) => m.msg_type === "status" && m.content.execution_state === "idle");
    assert.ok(result.messages.indexOf(card.messages.at(-1)!) < idle);
    checkCardBundles(result.messages);

    // The kernel is usable afterwards (wait out tslab's abort window after the failed cell).
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await kernel.execute("exp.openRuns.length")).status, "ok");
  });

  it(
    "lets exp.run callbacks run at once without ending each other",
    async () => {
      const result = await kernel.execute(
        [
          `const together = await Promise.allSettled([1, 2].map((k) => exp.run(async (run) => {`,
          `  await new Promise((r) => setTimeout(r, 300));`,
          `  run.log("k", k);`,
          `  return k;`,
          `}, { name: \`together-\${k}\` })));`,
          `together.map((o) => o.status).join(",")`,
        ].join("\n"),
      );
      assert.equal(result.status, "ok", errorText(result.messages));
      assert.equal(streamText(result.messages, "stdout").trim(), "fulfilled,fulfilled");
    },
  );

  it(
    "compiles a captured function called without the arguments the config fills",
    async () => {
      const result = await kernel.execute(`const scaled = exp.capture((lr: number, steps = 1) => lr * steps);\nscaled()`);
      // tslab refuses requests for 200 ms after a failed cell; the next test must not meet that.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(result.status, "ok", errorText(result.messages));
      assert.equal(streamText(result.messages, "stdout").trim(), "2");
    },
  );

  it("shows the open spanning run of a killed kernel as died", async () => {
    const result = await kernel.execute(`const doomed = await exp.start({ name: "doomed", span: true });\ndoomed.log("loss", 1);\ndoomed.id`);
    assert.equal(result.status, "ok", errorText(result.messages));
    const root = path.join(dir, "experiments");
    const n = Math.max(...runNumbers(root, EXP));
    assert.equal(readRecord(root, EXP, n).status, "running");

    const pid = kernel.kernelPid();
    process.kill(pid, "SIGKILL");
    // The kernel's manager notices, as Jupyter's server does, and reaps the process.
    assert.equal((await kernel.execute("1", { timeout: 10_000 })).status, "dead");
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }

    const exp = await experiment(EXP, { root, capture: false });
    const history = await exp.history();
    const doomed = history.find((r) => r.number === n)!;
    assert.equal(doomed.name, "doomed");
    assert.equal(doomed.status, "died");
    assert.ok(doomed.endTime !== undefined && doomed.endTime >= doomed.startTime);
    // The earlier, interrupted run keeps its status.
    assert.equal(history.find((r) => r.number === 1)!.status, "interrupted");
    // Reading never writes: the record stays as the killed process left it.
    assert.equal(readRecord(root, EXP, n).status, "running");
  });
});
