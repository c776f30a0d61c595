/**
 * notebooks/sweeps.ipynb, executed by nbclient with the real tslab kernel: a 3×3 grid with a
 * failing trial, a random sweep drawn again from its recorded seed, the sweep reopened. Then, in
 * a live kernel step by step: an interrupt during trial 4 and the cell run again, resuming at
 * trial 4; and a sweep of 1,000 trials whose card stays within 64 KB. And a sweep with
 * `mlflow: true` against a real MLflow server: a parent run with its trials nested under it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { errorText, executeNotebook, KernelSession, streamText, type JupyterMessage } from "../helpers";
import { SWEEP_MIME, SWEEPS_DIR, parseSweepRecord, sweepPath, type SweepPayload, type SweepRecord } from "../../src/protocol";
import { useMlflowServer } from "../helpers/mlflow";
import { MIME, MAX_BUNDLE_BYTES, bundles, cellIndex, cellText, makeWorkDir, readNotebook, readRecord, runNotebook, runNumbers, sourceText, type NotebookRun } from "./support";

const EXP = "sweeps";
const SWEEP_MIMES = [SWEEP_MIME, "application/vnd.vegalite.v5+json", "text/html", "text/plain"];

function sweepRecord(root: string, experiment: string, n: number): SweepRecord {
  const parsed = parseSweepRecord(fs.readFileSync(path.join(root, sweepPath(experiment, n)), "utf8"));
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
  return parsed.record;
}

/** The sweep card's messages among `messages`: one display, then updates in place. */
function sweepCard(messages: readonly JupyterMessage[]): { messages: JupyterMessage[]; first: SweepPayload; final: SweepPayload } {
  const list = bundles(messages, SWEEP_MIME);
  assert.ok(list.length > 0, "no sweep card was sent");
  assert.equal(list.filter((m) => m.msg_type === "display_data").length, 1, "one card for the whole sweep");
  assert.equal(list[0].msg_type, "display_data");
  const ids = new Set(list.map((m) => m.content.transient?.display_id));
  assert.equal(ids.size, 1, "every update goes to the card's display id");
  for (const m of list) {
    for (const mime of SWEEP_MIMES) assert.ok(m.content.data[mime] !== undefined, `${m.msg_type} lacks ${mime}`);
    const bytes = Buffer.byteLength(JSON.stringify(m.content.data), "utf8");
    assert.ok(bytes <= MAX_BUNDLE_BYTES, `a sweep bundle has ${bytes} bytes`);
  }
  return { messages: list, first: list[0].content.data[SWEEP_MIME], final: list[list.length - 1].content.data[SWEEP_MIME] };
}

describe("notebooks/sweeps.ipynb", () => {
  let nb: NotebookRun;
  before(async () => {
    nb = await runNotebook("sweeps.ipynb", { timeout: 120_000 });
  });
  after(() => nb?.cleanup());

  it("is committed as a tslab notebook without outputs", () => {
    const committed = readNotebook("sweeps.ipynb");
    assert.equal(committed.metadata.kernelspec.name, "tslab");
    for (const c of committed.cells) if (c.cell_type === "code") assert.deepEqual(c.outputs, []);
  });

  it("runs a 3×3 grid as 9 runs, one failed, and finds the best", () => {
    const i = cellIndex(nb.result, "strategy: \"grid\"");
    assert.equal(cellText(nb.result, i, "stdout").trim(), `${EXP}/sweep-1 completed 9 1 {"lr":0.03,"model.hidden":64} ${EXP}/6`);
    const numbers = runNumbers(nb.root, EXP);
    assert.deepEqual(numbers.slice(0, 9), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const records = numbers.slice(0, 9).map((n) => readRecord(nb.root, EXP, n));
    assert.deepEqual(records.map((r) => r.status), ["completed", "completed", "completed", "completed", "completed", "completed", "completed", "failed", "completed"]);
    assert.equal(records[7].error?.message, "diverged");
    for (const r of records) {
      assert.ok(r.tags.includes("sweep-1"));
      assert.equal(r.endedBy, "callback");
    }
    assert.deepEqual(records.map((r) => [r.config.lr, (r.config.model as { hidden: number }).hidden]), [
      [0.1, 16], [0.1, 32], [0.1, 64], [0.03, 16], [0.03, 32], [0.03, 64], [0.01, 16], [0.01, 32], [0.01, 64],
    ]);
    const rec = sweepRecord(nb.root, EXP, 1);
    assert.equal(rec.status, "completed");
    assert.equal(rec.name, "lr-hidden");
    assert.equal(rec.best?.run, `${EXP}/6`);
    assert.equal(rec.runs.filter((t) => t.status === "failed").length, 1);

    // One card for the sweep, updated in place; the trials show no cards of their own.
    const messages = nb.result.messages[i];
    assert.equal(bundles(messages, MIME.run).length, 0, "a trial showed a run card");
    const card = sweepCard(messages);
    assert.equal(card.first.status, "running");
    assert.ok(card.messages.length >= 3, `only ${card.messages.length} card messages`);
    assert.ok(card.messages.length < 60, `${card.messages.length} card messages: not coalesced`);
    assert.equal(card.final.status, "completed");
    assert.equal(card.final.done, 9);
    assert.equal(card.final.failed, 1);
    assert.equal(card.final.best?.run, `${EXP}/6`);
    assert.equal(card.final.rows[0].run, `${EXP}/6`);
    assert.equal(card.final.rows[8].status, "failed");
    // Some update showed a trial running with the time left.
    assert.ok(card.messages.some((m) => m.content.data[SWEEP_MIME].current !== null && m.content.data[SWEEP_MIME].eta !== undefined));
    // The saved notebook keeps the card's last state.
    const saved = (nb.result.notebook.cells[i].outputs ?? []).filter((o) => o.data?.[SWEEP_MIME] !== undefined);
    assert.equal(saved.length, 1);
    assert.equal(saved[0].data[SWEEP_MIME].status, "completed");
    assert.match(saved[0].data["text/html"], /<progress value="9" max="9"/);
  });

  it("shows the trials best first as a table", () => {
    const i = cellIndex(nb.result, "grid.table()");
    assert.equal(cellText(nb.result, i, "stdout").trim(), "9");
    const tables = bundles(nb.result.messages[i], MIME.table);
    assert.equal(tables.length, 1);
    const t = tables[0].content.data[MIME.table];
    assert.equal(t.rows[0][t.columns.indexOf("id")], `${EXP}/6`);
    assert.equal(t.rows.length, 9);
  });

  it("draws a random sweep of 20 again, identically, from its recorded seed", () => {
    const first = cellText(nb.result, cellIndex(nb.result, "const rand"), "stdout").trim();
    const m = /^sweeps\/sweep-2 completed 20 seed (\d+)$/.exec(first);
    assert.ok(m, first);
    assert.equal(sweepRecord(nb.root, EXP, 2).seed, Number(m[1]));
    assert.equal(cellText(nb.result, cellIndex(nb.result, "const again"), "stdout").trim(), `${EXP}/sweep-3 same trials: true`);
    const a = sweepRecord(nb.root, EXP, 2);
    const b = sweepRecord(nb.root, EXP, 3);
    assert.equal(b.seed, a.seed);
    assert.equal(a.runs.length, 20);
    assert.deepEqual(b.runs.map((t) => t.params), a.runs.map((t) => t.params));
    assert.equal(new Set(a.runs.map((t) => t.params.lr)).size, 20);
    // The trials' configs really carry the drawn values.
    const byRun = new Map(a.runs.map((t) => [t.run, t.params]));
    for (const [id, params] of byRun) {
      const r = readRecord(nb.root, EXP, Number(id.split("/")[1]));
      assert.equal(r.config.lr, params.lr);
      assert.equal((r.config.model as { hidden: number }).hidden, params["model.hidden"]);
    }
  });

  it("reopens a sweep by id", () => {
    assert.equal(cellText(nb.result, cellIndex(nb.result, "exp.getSweep"), "stdout").trim(), `${EXP}/sweep-1 completed true ${sweepRecord(nb.root, EXP, 1).best?.value}`);
  });
});

describe("sweeps in a live kernel: interrupt and resume, 1,000 trials", () => {
  let kernel: KernelSession;
  let dir: string;
  const setup = sourceText(readNotebook("sweeps.ipynb").cells.find((c) => c.cell_type === "code")!.source).replace(`experiment("sweeps"`, `experiment("resume"`);
  const root = () => path.join(dir, "experiments");
  // Each trial takes about a second: 5 epochs of 200 ms.
  const cell = [
    `const slow = await exp.sweep(`,
    `  { lr: [0.1, 0.03, 0.01], "model.hidden": [16, 64, 128] },`,
    `  train,`,
    `  { metric: "val_loss", name: "slow", config: { epochs: 5 } },`,
    `);`,
    `console.log(slow.id, slow.status, slow.trials.length);`,
  ].join("\n");

  before(async () => {
    dir = makeWorkDir("sweeps-kernel");
    kernel = await KernelSession.start({ cwd: dir, env: { LABNOTE_DIR: "" }, notebookPath: path.join(dir, "sweeps.ipynb") });
    const result = await kernel.execute(setup.replace("setTimeout(r, 20)", "setTimeout(r, 200)"), { timeout: 90_000 });
    assert.equal(result.status, "ok", errorText(result.messages));
  });
  after(async () => {
    await kernel?.shutdown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("ends the sweep interrupted during trial 4, and resumes at trial 4 when the cell runs again", async () => {
    const running = kernel.execute(cell, { timeout: 120_000 });
    const fourth = path.join(root(), "resume", "4", "run.json");
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(fourth) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.existsSync(fourth), "trial 4 did not start");
    await new Promise((r) => setTimeout(r, 400));
    await kernel.interrupt();
    const result = await running;
    assert.equal(result.status, "error");
    assert.match(errorText(result.messages) ?? "", /Interrupted asynchronously/);

    const rec = sweepRecord(root(), "resume", 1);
    assert.equal(rec.status, "interrupted");
    assert.deepEqual(rec.runs.map((t) => [t.trial, t.status]), [[0, "completed"], [1, "completed"], [2, "completed"], [3, "interrupted"]]);
    assert.equal(readRecord(root(), "resume", 4).status, "interrupted");
    // The card's last state came before the cell's idle status.
    const card = sweepCard(result.messages);
    assert.equal(card.final.status, "interrupted");
    const idle = result.messages.findIndex((m) => m.msg_type === "status" && m.content.execution_state === "idle");
    assert.ok(result.messages.indexOf(card.messages.at(-1)!) < idle);
    // No trial runs after the interrupt, though tslab lets the cell's code run on.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(runNumbers(root(), "resume"), [1, 2, 3, 4]);
    assert.equal(sweepRecord(root(), "resume", 1).status, "interrupted");

    await new Promise((r) => setTimeout(r, 300));
    const again = await kernel.execute(cell, { timeout: 120_000 });
    assert.equal(again.status, "ok", errorText(again.messages));
    assert.equal(streamText(again.messages, "stdout").trim(), "resume/sweep-1 completed 10");
    const done = sweepRecord(root(), "resume", 1);
    assert.equal(done.status, "completed");
    // Trials 1–3 were not run again; trial 4 was, as run 5, then 5–9.
    assert.deepEqual(done.runs.slice(4).map((t) => [t.trial, t.run, t.status]), [
      [3, "resume/5", "completed"], [4, "resume/6", "completed"], [5, "resume/7", "completed"], [6, "resume/8", "completed"], [7, "resume/9", "completed"], [8, "resume/10", "completed"],
    ]);
    assert.deepEqual(done.runs[4].params, done.runs[3].params);
    assert.deepEqual(runNumbers(root(), "resume"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const resumedCard = sweepCard(again.messages);
    assert.equal(resumedCard.first.done, 3, "the resumed card starts with the three trials done");
    assert.equal(resumedCard.final.done, 9);
    assert.equal(resumedCard.final.id, "resume/sweep-1");
  });

  it("keeps the card within 64 KB and its updates coalesced over 1,000 trials", async () => {
    const result = await kernel.execute(
      [
        `const many = await experiment("many", { ghost: true, capture: false });`,
        `const big = await many.sweep(`,
        `  { lr: { random: "log-uniform", min: 1e-5, max: 1 }, "model.hidden": { random: "int", min: 8, max: 512 }, act: { choice: ["relu", "tanh", "gelu"] } },`,
        `  async (run) => { const c = run.config as any; run.log("val_loss", Math.abs(Math.log10(c.lr) + 2) + 1 / c.model.hidden); },`,
        `  { strategy: "random", trials: 1000, seed: 5, metric: "val_loss" },`,
        `);`,
        `console.log(big.status, big.runs.length);`,
      ].join("\n"),
      { timeout: 180_000 },
    );
    assert.equal(result.status, "ok", errorText(result.messages));
    assert.equal(streamText(result.messages, "stdout").trim(), "completed 1000");
    assert.equal(bundles(result.messages, MIME.run).length, 0);
    const card = sweepCard(result.messages);
    assert.ok(card.messages.length < 200, `${card.messages.length} card messages for 1,000 trials`);
    assert.equal(card.final.done, 1000);
    assert.equal(card.final.rows.length, 50);
    assert.equal(card.final.rest, 950);
    assert.ok(card.final.lines.length >= 25);
  });
});

describe("a sweep in a notebook with mlflow: true", () => {
  const mlflow = useMlflowServer();
  let dir: string;
  before(() => {
    dir = makeWorkDir("sweeps-mlflow");
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("run by nbclient: the sweep is a parent run in MLflow and its trials are its children, each with its notebook tag", async () => {
    const cells = [
      `import { experiment } from "labnote";
const exp = await experiment("nbswept", { mlflow: true, capture: { sources: false, dependencies: false }, config: { lr: 0.1, hidden: 8 } });`,
      `const s = await exp.sweep(
  { lr: [0.1, 0.01], hidden: [16, 32] },
  async (run) => { const c = run.config as any; if (c.lr === 0.1 && c.hidden === 32) throw new Error("diverged"); run.log("val_loss", c.lr + 1 / c.hidden); },
  { metric: "val_loss", name: "nb-grid" },
);
console.log(s.id, s.status, s.best?.run);`,
    ];
    const file = path.join(dir, "mlflow-sweep.ipynb");
    fs.writeFileSync(
      file,
      JSON.stringify({
        cells: cells.map((source, i) => ({ cell_type: "code", execution_count: null, id: `c${i}`, metadata: {}, outputs: [], source })),
        metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" }, language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const { notebook } = await executeNotebook(file, { cwd: dir, env: { LABNOTE_DIR: "", MLFLOW_TRACKING_URI: mlflow.uri }, timeout: 120_000, totalTimeout: 300_000 });
    assert.match(JSON.stringify(notebook.cells[1].outputs), /nbswept\/sweep-1 completed nbswept\/4/);
    const store = path.join(dir, "experiments", "nbswept");
    await mlflow.delivered(path.join(store, SWEEPS_DIR), { file: "1.mlflow.json" });
    for (const n of [1, 2, 3, 4]) await mlflow.delivered(path.join(store, String(n)));
    const { parents, children } = await mlflow.sweepFamily("nbswept", "nbswept/sweep-1");
    assert.equal(parents.length, 1);
    const [parent] = parents;
    assert.equal(parent.info.run_name, "nb-grid");
    assert.equal(parent.info.status, "FINISHED");
    assert.equal(parent.params.hidden, "[16,32]");
    assert.equal(parent.metrics.best_val_loss, 0.01 + 1 / 32);
    assert.deepEqual(
      children.map((c) => [c.tags["labnote.run_id"], c.info.status, c.tags["labnote.notebook"] !== undefined]),
      [
        ["nbswept/1", "FINISHED", true],
        ["nbswept/2", "FAILED", true],
        ["nbswept/3", "FINISHED", true],
        ["nbswept/4", "FINISHED", true],
      ],
    );
  });
});
