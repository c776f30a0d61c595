/**
 * labnote in the real tslab kernel: cell-scoped and spanning runs, re-runs, cell sources,
 * progress bars, the runs table, and bounded IOPub traffic.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { MIME, blobPath, type RunPayload } from "../../src/protocol";
import { contentBytes, displays, KernelSession, ofType, repoRoot, streamText, type JupyterMessage } from "../helpers";

function cards(messages: readonly JupyterMessage[]): RunPayload[] {
  return displays(messages)
    .map((m) => m.content.data?.[MIME.run] as RunPayload | undefined)
    .filter((p): p is RunPayload => p !== undefined);
}

function record(dir: string, id: string): any {
  return JSON.parse(fs.readFileSync(path.join(dir, "experiments", id, "run.json"), "utf8"));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("labnote in a tslab cell", { timeout: 300_000 }, () => {
  let kernel: KernelSession;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cells-"));
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
    kernel = await KernelSession.start({ cwd: dir, notebookPath: path.join(dir, "cells.ipynb") });
    const r = await kernel.execute(`import { experiment } from "labnote";\nconst exp = await experiment("cells", { config: { lr: 0.1 }, capture: { sources: false } });`, { timeout: 120_000 });
    assert.equal(r.status, "ok", streamText(r.messages));
  });
  after(async () => {
    await kernel?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("ends a run with its cell: completed, with the cell's source recorded and the final card before idle", async () => {
    const code = `const run = await exp.start({ name: "scoped" });\nfor (let i = 0; i < 50; i++) run.log("loss", 1 / (i + 1));\nrun.id`;
    const r = await kernel.execute(code);
    assert.equal(r.status, "ok", streamText(r.messages));
    const id = streamText(r.messages, "stdout").trim().replace(/'/g, "");
    const rec = record(dir, id);
    assert.equal(rec.status, "completed");
    assert.equal(rec.endedBy, "cell");
    assert.equal(rec.cells.length, 1);
    assert.equal(rec.cells[0].ok, true);
    assert.ok(rec.cells[0].executionCount > 0);
    assert.equal(rec.notebook, path.join(dir, "cells.ipynb"));
    const blob = path.join(dir, "experiments", blobPath(rec.cells[0].sha256));
    assert.equal(fs.readFileSync(blob, "utf8"), code);
    const cs = cards(r.messages);
    assert.equal(cs[0].status, "running");
    assert.equal(cs.at(-1)!.status, "completed");
    assert.equal(cs.at(-1)!.metrics[0].count, 50);
    const last = displays(r.messages).at(-1)!;
    assert.equal(last.msg_type, "update_display_data");
    assert.deepEqual(Object.keys(last.content.data).sort(), ["application/vnd.labnote.run+json", "application/vnd.vegalite.v5+json", "text/html", "text/plain"]);
    const idleAt = r.messages.findIndex((m) => m.msg_type === "status" && m.content.execution_state === "idle");
    assert.ok(r.messages.indexOf(last) < idleAt, "the final card arrives before the kernel goes idle");
  });

  it("fails a run whose cell throws, or whose top-level await rejects, with the error", async () => {
    const r1 = await kernel.execute(`const r1 = await exp.start({ name: "throws" }); r1.log("x", 1); throw new RangeError("bad input");`);
    assert.equal(r1.status, "error");
    assert.equal(cards(r1.messages).at(-1)!.status, "failed");
    assert.equal(cards(r1.messages).at(-1)!.error?.message, "bad input");
    await pause(300);
    const r2 = await kernel.execute(`const r2 = await exp.start({ name: "rejects" }); await Promise.reject(new Error("async trouble"));`);
    assert.equal(r2.status, "error");
    await pause(300);
    const hist = await kernel.execute(`JSON.stringify((await exp.history()).filter(r => r.name !== "scoped").map(r => [r.name, r.status, r.error?.message, r.error?.stack?.includes("RangeError")]))`);
    assert.deepEqual(JSON.parse(streamText(hist.messages, "stdout").trim().replace(/^'|'$/g, "")), [
      ["throws", "failed", "bad input", true],
      ["rejects", "failed", "async trouble", false],
    ]);
  });

  it("keeps a spanning run open across cells, records each cell, and ends it with run.end() or the next spanning run", async () => {
    const start = await kernel.execute(`const span = await exp.start({ name: "span", span: true }); span.log("x", 1); span.id`);
    const id = streamText(start.messages, "stdout").trim().replace(/'/g, "");
    assert.equal(record(dir, id).status, "running");
    await kernel.execute(`span.log("x", 2)`);
    await kernel.execute(`span.log("x", 3); console.log("third cell")`);
    assert.equal(record(dir, id).status, "running");
    const next = await kernel.execute(`const span2 = await exp.start({ name: "span", span: true }); span2.id`);
    const id2 = streamText(next.messages, "stdout").trim().replace(/'/g, "");
    const first = record(dir, id);
    assert.equal(first.status, "completed");
    assert.equal(first.endedBy, "span");
    assert.equal(first.metrics.x.count, 3);
    assert.equal(first.cells.length, 4, "the start cell, two logging cells and the cell that started the next run");
    assert.ok(first.cells.slice(0, 3).every((c: { ok: boolean }) => c.ok));
    const out = fs.readFileSync(path.join(dir, "experiments", id, "output.log"), "utf8");
    assert.match(out, /third cell/);
    await kernel.execute(`await span2.end()`);
    assert.equal(record(dir, id2).status, "completed");
    assert.equal(record(dir, id2).endedBy, "end");
  });

  it("links a re-run cell to the run it re-ran: same name, next number", async () => {
    const code = `const again = await exp.start({ name: "rerun-me" }); again.log("v", 1); again.id`;
    const a = await kernel.execute(code);
    const b = await kernel.execute(code.replace("const again", "const again2").replace("again.log", "again2.log").replace("again.id", "again2.id"));
    const c = await kernel.execute(code);
    const ida = streamText(a.messages, "stdout").trim().replace(/'/g, "");
    const idb = streamText(b.messages, "stdout").trim().replace(/'/g, "");
    const idc = streamText(c.messages, "stdout").trim().replace(/'/g, "");
    assert.equal(record(dir, ida).rerunOf, undefined);
    assert.equal(record(dir, idb).rerunOf, undefined, "a different cell is not a re-run");
    assert.equal(record(dir, idc).rerunOf, ida);
    assert.equal(record(dir, idc).name, "rerun-me");
    assert.ok(record(dir, idc).number > record(dir, ida).number);
  });

  it("shows a progress bar that advances and finishes", async () => {
    const r = await kernel.execute(`const pr = await exp.start({ name: "progress" }); for (const i of pr.progress([...Array(40).keys()])) { pr.log("i", i); await new Promise(r => setTimeout(r, 25)); }`);
    assert.equal(r.status, "ok");
    const bars = displays(r.messages).map((m) => m.content.data?.[MIME.progress]).filter(Boolean);
    assert.ok(bars.length >= 3, `${bars.length} progress messages`);
    assert.equal(bars[0].count, 0);
    assert.equal(bars.at(-1).count, 40);
    assert.equal(bars.at(-1).total, 40);
    assert.equal(bars.at(-1).done, true);
    assert.ok(bars.at(-1).rate > 0);
  });

  it("shows the runs table with exp.table()", async () => {
    const r = await kernel.execute(`(await exp.table()).numRows()`);
    const [table] = displays(r.messages).map((m) => m.content.data?.[MIME.table]).filter(Boolean);
    assert.ok(table, "a table display");
    const n = Number(streamText(r.messages, "stdout").trim());
    assert.equal(table.rows.length, n);
    assert.ok(table.columns.includes("status") && table.columns.includes("config.lr"));
    assert.ok(displays(r.messages)[0].content.data["text/html"].includes("<table"));
  });

  it("keeps traffic bounded: 1,000,000 points in a tight loop give a correct final card within IOPub limits", async () => {
    const started = Date.now();
    const r = await kernel.execute(`const big = await exp.start({ name: "big" }); for (let i = 0; i < 1_000_000; i++) big.log("loss", Math.sin(i / 1000) + i * 1e-6);\nfor (let k = 0; k < 20; k++) { for (let i = 0; i < 10_000; i++) big.log("acc", i); await new Promise(r => setTimeout(r, 50)); }`, { timeout: 120_000 });
    assert.equal(r.status, "ok", streamText(r.messages));
    const elapsed = (Date.now() - started) / 1000;
    const final = cards(r.messages).at(-1)!;
    assert.equal(final.status, "completed");
    const loss = final.metrics.find((m) => m.name === "loss")!;
    assert.equal(loss.count, 1_000_000);
    assert.equal(loss.lastStep, 999_999);
    assert.ok(Math.abs((loss.last as number) - (Math.sin(999.999) + 0.999999)) < 1e-12, "the last point is exact");
    assert.ok(loss.series.step.length <= 200);
    assert.equal(final.metrics.find((m) => m.name === "acc")!.count, 200_000);
    const ds = displays(r.messages);
    for (const m of ds) assert.ok(contentBytes(m) <= 64 * 1024, `a display message of ${contentBytes(m)} bytes`);
    // Jupyter's limits: 1000 msg/s and 1 MB/s averaged over 3 s windows.
    const all = r.messages;
    const bytes = all.reduce((s, m) => s + contentBytes(m), 0);
    assert.ok(all.length / Math.max(elapsed, 3) < 1000, `${all.length} messages in ${elapsed} s`);
    assert.ok(bytes / Math.max(elapsed, 3) < 1_000_000, `${bytes} bytes in ${elapsed} s`);
    assert.ok(ds.length <= elapsed * 5 + 4, `${ds.length} display messages in ${elapsed} s (coalesced to a few a second)`);
    assert.doesNotMatch(streamText(all), /rate exceeded/i);
    assert.equal(ofType(all, "stream").length, 0);
  });
});
