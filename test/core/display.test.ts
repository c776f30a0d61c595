import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { experiment } from "../../src";
import { MAX_BUNDLE_BYTES, runBundle } from "../../src/sinks/notebook/card";
import { tableBundle, tablePayload } from "../../src/sinks/notebook/table";
import { MIME, decode } from "../../src/protocol";
import { runState } from "../../src/core/run";
import { tempDir } from "./tmp";

const EVIL = `<img src=x onerror=alert(1)>`;

describe("display bundles", () => {
  it("carry labnote's payload and the vega-lite, HTML and text fallbacks, with user text escaped", async () => {
    const exp = await experiment(`x`, { root: tempDir(), capture: false, config: { [EVIL]: EVIL, plain: 1 } });
    const run = await exp.start({ name: EVIL, tags: [EVIL], config: { plain: `</table><script>alert(2)</script>` } });
    run.log(EVIL, 1);
    await run.save({ a: 1 }, "ok");
    const bundle = runBundle(runState(run).view);
    assert.deepEqual(Object.keys(bundle).sort(), [MIME.run, "application/vnd.vegalite.v5+json", "text/html", "text/plain"].sort());
    const html = bundle["text/html"] as string;
    assert.ok(!html.includes("<img"), "no raw <img> from user text");
    assert.ok(!html.includes("<script"), "no raw <script> from user text");
    assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
    const d = decode(MIME.run, bundle[MIME.run]);
    assert.ok(d.ok);
    if (d.ok && d.payload.kind === "run") {
      assert.equal(d.payload.name, EVIL); // the payload keeps the text; renderers treat it as text
      assert.equal(d.payload.config[0].key, "plain"); // modified keys first
      assert.ok(d.payload.config[0].modified);
    }
    await run.end();
    const t = tableBundle(tablePayload("x", await exp.history()));
    assert.ok(!(t["text/html"] as string).includes("<img"));
    assert.ok((t["text/html"] as string).includes("&lt;img"));
  });

  it("stay under 64 KB however many points and metrics a run has, with the last point exact", async () => {
    const exp = await experiment("big", { root: tempDir(), capture: false });
    const run = await exp.start();
    for (let m = 0; m < 30; m++) for (let i = 0; i < 20_000; i++) run.log(`metric_${m}_with_a_long_name`, Math.sin(i) * m + i);
    const bundle = runBundle(runState(run).view);
    const size = JSON.stringify(bundle).length;
    assert.ok(size <= MAX_BUNDLE_BYTES, `${size} bytes`);
    const d = decode(MIME.run, bundle[MIME.run]);
    assert.ok(d.ok && d.payload.kind === "run");
    if (d.ok && d.payload.kind === "run") {
      const m = d.payload.metrics[0];
      assert.equal(m.count, 20_000);
      assert.equal(m.series.step.at(-1), 19_999);
      assert.equal(m.last, Math.sin(19_999) * 0 + 19_999);
    }
    await run.end();
  });
});
