import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { experiment, whenWritten } from "../../src";
import { readHistory } from "../../src/history/read";
import { tempDir } from "./tmp";

const NOTHING_ELSE = { sources: false, output: false, host: false, git: false, dependencies: false, lineage: false };

describe("system metrics", () => {
  it("samples the run's process every few seconds as system/cpu and system/rss_mb, on by default, off with capture: { system: false }", { timeout: 60_000 }, async () => {
    const root = tempDir();
    const on = await experiment("sys", { root, capture: NOTHING_ELSE });
    const off = await experiment("quiet", { root, capture: { ...NOTHING_ELSE, system: false } });
    const a = await on.start({ name: "sampled" });
    const b = await off.start({ name: "not sampled" });
    const until = Date.now() + 4600;
    // Busy half the time, so the CPU sample has something to see; log as usual meanwhile.
    let i = 0;
    while (Date.now() < until) {
      const t = Date.now() + 50;
      while (Date.now() < t) a.log("loss", 1 / ++i);
      await new Promise((r) => setTimeout(r, 50));
    }
    await a.end();
    await b.end();
    await whenWritten();
    const [ra] = readHistory(root, "sys");
    const [rb] = readHistory(root, "quiet");
    assert.ok(ra.metrics["system/cpu"]?.count >= 2, `samples: ${JSON.stringify(ra.metrics["system/cpu"])}`);
    assert.ok(ra.metrics["system/cpu"].max > 5 && ra.metrics["system/cpu"].max < 400, `cpu % ${ra.metrics["system/cpu"].max}`);
    assert.ok(ra.metrics["system/rss_mb"].last > 10, `rss ${ra.metrics["system/rss_mb"].last} MB`);
    assert.ok(ra.metrics.loss.count > 100);
    assert.deepEqual(Object.keys(rb.metrics).filter((m) => m.startsWith("system/")), []);
    // no nvidia-smi here: no GPU metric, and no warning either
    assert.deepEqual(Object.keys(ra.metrics).filter((m) => m.includes("gpu")), []);
  });
});
