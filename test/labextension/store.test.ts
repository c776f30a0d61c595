import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFailure, RunStore, sameNotebook, storePath } from "../../labextension/src/model/store";
import { Stores } from "../../labextension/src/model/stores";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { experiment, whenWritten } from "../../src";
import { fakeContents, httpError, record } from "./fake-contents";

const alive = { dead: () => false };

describe("the store reader", () => {
  it("counts a truncated and an invalid run.json as unreadable runs, with the reason, and still reads the others", async () => {
    const full = record("demo", 3);
    const contents = fakeContents(
      {
        "nb/experiments/demo/1/run.json": record("demo", 1),
        "nb/experiments/demo/2/run.json": full.slice(0, full.length / 2),
        "nb/experiments/demo/3/run.json": JSON.stringify({ format: 1, experiment: "demo" }),
        "nb/experiments/demo/4/run.json": record("demo", 4),
      },
      { mtime: { "nb/experiments/demo/2": Date.now() - 120_000, "nb/experiments/demo/3": Date.now() - 120_000 } },
    );
    const r = await new RunStore(contents, "nb/experiments").runs("demo", alive);
    assert.ok(r.ok);
    assert.deepEqual(r.runs.map((x) => x.id), ["demo/4", "demo/1"]);
    assert.deepEqual(r.unreadable.map((u) => u.number), [3, 2]);
    assert.match(r.unreadable[1].reason, /not valid JSON.*truncated/);
    assert.match(r.unreadable[0].reason, /no run "number"/);
  });

  it("says a store that does not exist yet is missing, and a permission failure is a failure with its status", async () => {
    const missing = await new RunStore(fakeContents({ "nb/a.ipynb": "{}" }), "nb/experiments").experiments();
    assert.ok(!missing.ok);
    assert.equal(missing.failure.missing, true);
    const denied = await new RunStore(fakeContents({ "nb/experiments/demo/1/run.json": record("demo", 1) }, { denied: ["nb/experiments"] }), "nb/experiments").experiments();
    assert.ok(!denied.ok);
    assert.deepEqual(denied.failure, { status: 403, message: "Permission denied: nb/experiments", missing: false });
  });

  it("reads the server's message out of a contents-API error", () => {
    assert.deepEqual(readFailure(httpError(400, "experiments is not a directory")), { status: 400, message: "experiments is not a directory", missing: false });
    assert.deepEqual(readFailure(new Error("network down")), { status: undefined, message: "network down", missing: false });
  });

  it("applies the died rule when reading, and never writes", async () => {
    const old = Date.now() - 5 * 60_000;
    const contents = fakeContents({
      "e/demo/1/run.json": record("demo", 1, { status: "running", heartbeat: old, endTime: undefined, duration: undefined }),
      "e/demo/2/run.json": record("demo", 2, { status: "running", heartbeat: Date.now() - 1000, endTime: undefined, duration: undefined }),
      "e/demo/3/run.json": record("demo", 3, { status: "interrupted" }),
    });
    const store = new RunStore(contents, "e");
    const r = await store.runs("demo", { dead: (id) => id === "demo/2" || id === "demo/3" });
    assert.ok(r.ok);
    assert.deepEqual(
      r.runs.map((x) => [x.id, x.record.status]),
      [
        ["demo/3", "interrupted"],
        ["demo/2", "died"],
        ["demo/1", "died"],
      ],
    );
    assert.equal(r.runs[2].record.endTime, old);
    // Reading went through get() only: the fake has no way to write, and nothing asked for one.
    assert.ok(contents.gets.every((p) => p.startsWith("e")));
  });

  it("finds the running runs of one notebook from their records and heartbeats", async () => {
    const now = Date.now();
    const contents = fakeContents(
      {
        "e/a/1/run.json": record("a", 1, { status: "running", heartbeat: now - 2000, notebook: "/srv/root/dir/train.ipynb", endTime: undefined }),
        "e/a/2/run.json": record("a", 2, { status: "running", heartbeat: now - 2000, notebook: "/srv/root/other.ipynb", endTime: undefined }),
        "e/b/7/run.json": record("b", 7, { status: "running", heartbeat: now - 120_000, notebook: "/srv/root/dir/train.ipynb", endTime: undefined }),
        "e/b/8/run.json": record("b", 8, { notebook: "/srv/root/dir/train.ipynb" }),
      },
      { now },
    );
    const found = await new RunStore(contents, "e").running(alive, "dir/train.ipynb", now);
    assert.deepEqual(found.map((r) => [r.id, r.record.status]), [["a/1", "running"]]);
  });

  it("names the experiment a notebook ran last", async () => {
    const contents = fakeContents({
      "e/alpha/1/run.json": record("alpha", 1, { notebook: "/x/a.ipynb", startTime: 1000 }),
      "e/beta/1/run.json": record("beta", 1, { notebook: "/x/b.ipynb", startTime: 2000 }),
      "e/beta/2/run.json": record("beta", 2, { notebook: "/x/b.ipynb", startTime: 3000 }),
    });
    const store = new RunStore(contents, "e");
    assert.equal(await store.experimentOf("a.ipynb", ["beta", "alpha"]), "alpha");
    assert.equal(await store.experimentOf("b.ipynb", ["beta", "alpha"]), "beta");
    assert.equal(await store.experimentOf("c.ipynb", ["beta", "alpha"]), undefined);
  });

  it("builds a stored run's card with the protocol's payload builder: modified keys first, NaN counted, artifact paths from the notebook", async () => {
    const contents = fakeContents({
      "nb/e/demo/1/run.json": record("demo", 1, {
        artifacts: [{ name: "weights", version: 0, file: "artifacts/weights.npy", format: "npy", type: "Float32Array", mediaType: "application/octet-stream", size: 80, sha256: "x", time: 1, kind: "artifact" }],
      }),
      "nb/e/demo/1/metrics.csv": "metric,step,value,time\nloss,0,2,1\nloss,1,NaN,2\nloss,2,0.5,3\n",
    });
    const store = new RunStore(contents, "nb/e");
    const r = await store.runs("demo", alive);
    assert.ok(r.ok);
    const p = await store.payload(r.runs[0], "nb");
    assert.deepEqual(p.config.map((c) => [c.key, c.modified]), [["lr", true], ["optimizer.name", false]]);
    assert.equal(p.metrics[0].nan, 1);
    assert.deepEqual(p.metrics[0].series.bad, [0, 1, 0]);
    assert.equal(p.artifacts[0].path, "e/demo/1/artifacts/weights.npy");
    assert.equal(p.root, "e");
  });

  it("draws a run of metrics format 2 from its summaries alone, never fetching its points", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-panel-format2-"));
    try {
      const exp = await experiment("big", { root, capture: false });
      const run = await exp.start();
      for (let i = 0; i < 200_000; i++) run.log("loss", i === 1000 ? NaN : 1 / (i + 1));
      await run.end();
      await whenWritten();
      // What the server would serve: every text file of the store (the panel must not need the rest).
      const files: Record<string, string> = {};
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const full = path.join(d, e.name);
          if (e.isDirectory()) walk(full);
          else if (!e.name.endsWith(".f64") && e.name !== "metrics.csv") files[`nb/e/${path.relative(root, full)}`] = fs.readFileSync(full, "utf8");
        }
      };
      walk(root);
      const contents = fakeContents(files);
      const store = new RunStore(contents, "nb/e");
      const r = await store.runs("big", alive);
      assert.ok(r.ok);
      const series = await store.series(r.runs[0], 200);
      const loss = series.get("loss")!;
      assert.ok(loss.step.length <= 200, `${loss.step.length} buckets`);
      assert.equal(loss.step[loss.step.length - 1], 199_999, "the last point is exact");
      assert.equal(loss.min[loss.min.length - 1], 1 / 200_000);
      assert.equal((loss.bad ?? []).reduce((a, b) => a + b, 0), 1, "the NaN is marked");
      assert.ok(!contents.gets.some((g) => g.endsWith(".f64") || g.endsWith("metrics.csv")), contents.gets.join(" "));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("places the store under the notebook's folder, and says when it lies outside the server's root", () => {
    assert.equal(storePath("dir", "experiments"), "dir/experiments");
    assert.equal(storePath("", "experiments"), "experiments");
    assert.equal(storePath("dir", "../../elsewhere"), undefined);
    assert.equal(storePath("dir", "/data/experiments"), undefined);
    const stores = new Stores(fakeContents({}));
    stores.root = "runs";
    assert.equal(stores.locate("a").path, "a/runs");
    assert.equal(stores.locate("a", "experiments").path, "a/experiments");
    assert.equal(stores.locate("a", "../../x").store, undefined);
  });

  it("matches a recorded notebook path to the notebook open in JupyterLab", () => {
    assert.ok(sameNotebook("/tmp/root/dir/a.ipynb", "dir/a.ipynb"));
    assert.ok(sameNotebook("dir/a.ipynb", "dir/a.ipynb"));
    assert.ok(!sameNotebook("/tmp/root/dir/ba.ipynb", "a.ipynb"));
    assert.ok(!sameNotebook(undefined, "a.ipynb"));
  });
});
