/**
 * The kernel harness itself, against the real tslab kernel: what a cell prints, what a
 * display sends, what an interrupt does, and a whole notebook through nbclient.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { displays, errorText, executeNotebook, KernelSession, streamText } from "../helpers";

describe("KernelSession (tslab)", () => {
  let kernel: KernelSession;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-smoke-"));
    kernel = await KernelSession.start({ cwd: dir });
  });
  after(async () => {
    await kernel?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("prints the value of the last expression as a stream", async () => {
    const result = await kernel.execute("1 + 1");
    assert.equal(result.status, "ok");
    assert.equal(streamText(result.messages, "stdout").trim(), "2");
    assert.equal(result.messages.at(-1)?.content.execution_state, "idle");
  });

  it("runs in the working directory it was given", async () => {
    const result = await kernel.execute("process.cwd()");
    assert.equal(fs.realpathSync(streamText(result.messages).trim().replace(/^'|'$/g, "")), fs.realpathSync(dir));
  });

  it("sends display.html as display_data", async () => {
    const result = await kernel.execute(`require("tslab").display.html("<b>x</b>")`);
    assert.equal(result.status, "ok");
    const [display] = displays(result.messages);
    assert.equal(display?.msg_type, "display_data");
    assert.equal(display.content.data["text/html"], "<b>x</b>");
  });

  it("reports a thrown error as an error reply with the error on stderr", async () => {
    const result = await kernel.execute(`throw new Error("boom")`);
    assert.equal(result.status, "error");
    assert.match(errorText(result.messages) ?? "", /Error: boom/);
    // The next step runs normally (the harness waits out tslab's abort window).
    assert.equal((await kernel.execute("1")).status, "ok");
  });

  it("rejects a waiting cell promptly on interrupt", async () => {
    const started = Date.now();
    const running = kernel.execute("await new Promise((r) => setTimeout(r, 10000))", { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1500));
    await kernel.interrupt();
    const result = await running;
    const elapsed = Date.now() - started;
    assert.equal(result.status, "error");
    assert.match(errorText(result.messages) ?? "", /Interrupted/);
    assert.ok(elapsed < 8000, `the cell ended after ${elapsed} ms`);
    // The kernel is still usable afterwards.
    assert.equal(streamText((await kernel.execute("40 + 2")).messages).trim(), "42");
  });

  it("ends a step that runs past its timeout with status timeout, and goes on", async () => {
    const started = Date.now();
    const result = await kernel.execute("await new Promise((r) => setTimeout(r, 10000))", { timeout: 1000 });
    assert.equal(result.status, "timeout");
    assert.equal(result.reply, null);
    assert.ok(Date.now() - started < 5000);
    await kernel.interrupt();
    assert.equal(streamText((await kernel.execute("6 * 7")).messages).trim(), "42");
  });

  it("reports a kernel that exits as dead, and restart brings it back", async () => {
    const result = await kernel.execute("process.exit(3)", { timeout: 10_000 });
    assert.equal(result.status, "dead");
    await kernel.restart();
    assert.equal(streamText((await kernel.execute("1 + 2")).messages).trim(), "3");
  });

  it("restarts into a fresh kernel process", async () => {
    await kernel.execute("const kept = 7");
    const before = kernel.kernelPid();
    await kernel.restart();
    assert.notEqual(kernel.kernelPid(), before);
    const result = await kernel.execute("kept");
    assert.equal(result.status, "error");
    assert.match(errorText(result.messages) ?? "", /Cannot find name 'kept'/);
  });
});

describe("executeNotebook (tslab)", () => {
  it("returns every output, display updates folded, and the raw IOPub messages", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-smoke-nb-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const nbPath = path.join(dir, "smoke.ipynb");
    const code = (source: string) => ({ cell_type: "code", source, metadata: {}, outputs: [], execution_count: null });
    fs.writeFileSync(
      nbPath,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
        cells: [
          { cell_type: "markdown", source: "# smoke", metadata: {} },
          code("1 + 1"),
          code(`require("tslab").display.html("<b>x</b>")`),
          code("process.env.JPY_SESSION_NAME"),
          code(`const d = require("tslab").newDisplay(); d.text("first"); d.text("second");`),
          code(`d.text("third")`),
        ],
      }),
    );
    const { notebook, messages, error } = await executeNotebook(nbPath, { timeout: 60_000 });
    assert.equal(error, null);
    assert.equal(messages.length, 6);
    assert.deepEqual(messages[0], []);
    assert.equal(notebook.cells[1].outputs?.[0]?.output_type, "stream");
    assert.equal(String(notebook.cells[1].outputs?.[0]?.text).trim(), "2");
    assert.equal(notebook.cells[2].outputs?.[0]?.output_type, "display_data");
    assert.equal(notebook.cells[2].outputs?.[0]?.data["text/html"], "<b>x</b>");
    assert.ok(displays(messages[2]).length >= 1);
    assert.match(String(notebook.cells[3].outputs?.[0]?.text), /smoke\.ipynb/);

    // One display, updated in place: its own cell and a later one update it; the saved
    // output shows the last value, and the raw messages show every update.
    assert.deepEqual(
      displays(messages[4]).map((m) => m.msg_type),
      ["display_data", "update_display_data"],
    );
    assert.deepEqual(displays(messages[5]).map((m) => m.msg_type), ["update_display_data"]);
    const shown = notebook.cells[4].outputs?.filter((o) => o.output_type === "display_data") ?? [];
    assert.equal(shown.length, 1);
    assert.equal(shown[0].data["text/plain"], "third");
    assert.deepEqual(notebook.cells[5].outputs, []);
  });
});
