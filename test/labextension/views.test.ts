import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HistoryRun } from "../../labextension/src/model/store";
import { artifactAction } from "../../labextension/src/views/artifacts";
import { columnsFor, configDiff, configKeys, fromText, parseFilter, visibleRuns } from "../../labextension/src/views/columns";

import { kernelLabel, storeMessage } from "../../labextension/src/views/messages";
import { metricSummary, seriesRows } from "../../labextension/src/views/series";
import { parseRunRecord } from "../../src/protocol/index";
import { record } from "./fake-contents";

function run(n: number, o: Record<string, unknown> = {}, config: Record<string, string> = {}): HistoryRun {
  const r = parseRunRecord(record("demo", n, o));
  assert.ok(r.ok);
  return { id: r.record.id, record: r.record, dir: `e/demo/${n}`, config: new Map(Object.entries(config)) };
}

describe("pure views of the panel", () => {
  it("picks as config columns the keys that differ, else the modified ones", () => {
    const a = run(1, {}, { lr: "0.1", seed: "1", "optimizer.name": '"adam"' });
    const b = run(2, {}, { lr: "0.2", seed: "1", "optimizer.name": '"adam"' });
    assert.deepEqual(configKeys([a, b]), ["lr"]);
    assert.deepEqual(configKeys([a]), ["lr"]);
    const c = run(3, { modified: [] }, { seed: "1" });
    assert.deepEqual(configKeys([c]), ["seed"]);
  });

  it("filters by every word and sorts numbers as numbers, runs without a value last", () => {
    const runs = [run(1, { name: "baseline" }), run(2, { name: "higher lr", metrics: {} }), run(10, { name: "baseline again" })];
    const cols = columnsFor(runs);
    assert.deepEqual(visibleRuns(runs, cols, "", { id: "number", desc: true }).map((r) => r.record.number), [10, 2, 1]);
    assert.deepEqual(visibleRuns(runs, cols, "baseline again", { id: "number", desc: false }).map((r) => r.record.number), [10]);
    assert.deepEqual(visibleRuns(runs, cols, "", { id: "metric:loss", desc: true }).map((r) => r.record.number).at(-1), 2);
    assert.deepEqual(visibleRuns(runs, cols, "", { id: "name", desc: false }).map((r) => r.record.name), ["baseline", "baseline again", "higher lr"]);
  });

  it("filters History with the query language of labnote ls: hidden 64 finds model.hidden=64, lr 0.01 never matches through a loss value", () => {
    const loss = (last: number) => ({ loss: { count: 5, lastStep: 4, last, min: last, max: 1 } });
    const runs = [
      run(1, { config: { lr: 0.01, model: { hidden: 64 } }, metrics: loss(0.3), tags: ["v1"] }),
      run(2, { config: { lr: 0.05, model: { hidden: 128 } }, metrics: loss(0.01) }),
      run(3, { config: { lr: 0.01, model: { hidden: 64 } }, metrics: loss(0.02), status: "failed", tags: ["v1"] }),
    ];
    const cols = columnsFor(runs);
    const shown = (f: string) => visibleRuns(runs, cols, f, { id: "number", desc: false }).map((r) => r.record.number);
    assert.deepEqual(shown("hidden 64"), [1, 3]);
    assert.deepEqual(shown("lr 0.01"), [1, 3], "run 2's loss is 0.01, its lr is not");
    assert.deepEqual(shown("lr<0.02 status=completed tag:v1"), [1]);
    assert.deepEqual(shown("loss.min<0.1"), [2, 3]);
    assert.deepEqual(shown("failed"), [3]);
    const bad = parseFilter("lr<<0.1");
    assert.equal(bad.query, undefined);
    assert.equal(bad.error?.column, 4);
    assert.deepEqual(shown("lr<<0.1"), [1, 2, 3], "a filter that does not parse filters nothing; the box shows the error");
  });

  it("lists the config keys where compared runs differ, a missing key included", () => {
    const a = run(1, {}, { lr: "0.1", seed: "1" });
    const b = run(2, {}, { lr: "0.2", seed: "1", extra: "true" });
    assert.deepEqual(configDiff([a, b]), { differing: ["extra", "lr"], same: 1 });
  });

  it("opens text, JSON, CSV and images in JupyterLab and offers anything else as a download", () => {
    assert.equal(artifactAction({ path: "a/summary.json", mediaType: "application/json" }), "open");
    assert.equal(artifactAction({ path: "a/table.csv", mediaType: "text/csv" }), "open");
    assert.equal(artifactAction({ path: "a/red.png", mediaType: "image/png" }), "open");
    assert.equal(artifactAction({ path: "a/notes.txt", mediaType: "text/plain" }), "open");
    assert.equal(artifactAction({ path: "a/weights.npy", mediaType: "application/octet-stream" }), "download");
    assert.equal(artifactAction({ path: "a/blob.bin", mediaType: "application/octet-stream" }), "download");
    assert.equal(artifactAction({ path: "a/model.onnx", mediaType: "" }), "download");
    assert.equal(artifactAction({ path: "a/log.txt", mediaType: "application/octet-stream" }), "open");
  });

  it("gives chart rows a gap and a NaN count where a bucket has no finite point, and counts NaN in the summary", () => {
    const rows = seriesRows("r", { step: [0, 10, 20], min: [1, "NaN", 0.5], max: [2, "NaN", 0.5], bad: [0, 4, 0] });
    assert.deepEqual(rows[1], { run: "r", step: 10, lo: null, hi: null, mid: null, bad: 4 });
    assert.equal(rows[0].mid, 1.5);
    const m = { name: "loss", count: 30, lastStep: 29, last: 0.5, min: 0.5, max: 12345678, nan: 2, posInf: 1, series: { step: [], min: [], max: [] } };
    assert.equal(metricSummary(m), "min 0.5 · max 12345678 · step 29 · 30 pts · 2 NaN · 1 ∞");
    assert.equal(metricSummary({ ...m, nan: undefined, posInf: undefined, count: 1 }), "step 29");
  });

  it("never says the kernel is idle beside a running run", () => {
    assert.deepEqual(kernelLabel("idle", 1), { text: "kernel: 1 run running", status: "running" });
    assert.deepEqual(kernelLabel("idle", 0), { text: "kernel idle", status: "idle" });
  });

  it("tells a store that does not exist yet from one that cannot be reached or read", () => {
    assert.match(storeMessage({ root: "experiments", path: "experiments" }, { missing: true, message: "", status: 404 }).text, /^No runs on disk yet under experiments\//);
    assert.equal(storeMessage({ root: "experiments", path: "experiments" }).error, undefined);
    const outside = storeMessage({ root: "../../data" });
    assert.equal(outside.error, true);
    assert.match(outside.text, /outside the Jupyter server's root/);
    const denied = storeMessage({ root: "experiments", path: "experiments" }, { missing: false, status: 403, message: "Permission denied: experiments" });
    assert.match(denied.text, /not allowed to read it \(HTTP 403\): Permission denied: experiments\. Check the folder's permissions/);
  });

  it("says in each history row where the run came from: notebook [cell], and the run it re-ran", () => {
    const cell = (n: number, t: number) => ({ executionCount: n, sha256: "a".repeat(64), startTime: t });
    const a = run(1, { startTime: 1000, notebook: "/work/nb/spirals.ipynb", cells: [cell(7, 900)] });
    const b = run(2, { startTime: 2000, notebook: "/work/nb/spirals.ipynb", cells: [cell(9, 1990)], rerunOf: "demo/1" });
    const plain = run(3, {});
    assert.equal(fromText(a), "spirals.ipynb [7]");
    assert.equal(fromText(b), "spirals.ipynb [9] · re-run of demo/1");
    assert.equal(fromText(plain), "");
    const col = columnsFor([a, b, plain]).find((c) => c.id === "from")!;
    assert.equal(col.text(b), "spirals.ipynb [9] · re-run of demo/1");
  });
});
