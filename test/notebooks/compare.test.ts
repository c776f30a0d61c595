/**
 * After notebooks/lineage.ipynb has run through nbclient with the real tslab kernel (a training
 * function edited and re-run between two runs, a failing cell between): exp.compare() and
 * exp.best() in a live kernel on that store, the comparison shown in the cell as HTML with a
 * text fallback; and the labnote command on the same store — show with the lineage and the
 * snapshot, compare with the code diff, export --to json, and rm/gc freeing the session log, the
 * snapshot and the blobs once no run refers to them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { displays, errorText, KernelSession, repoRoot, streamText } from "../helpers";
import { SESSIONS_DIR, SNAPSHOTS_DIR, type RunComparison } from "../../src/protocol";
import { runNotebook, type NotebookRun } from "./support";

function labnote(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "src/cli/main.ts"), ...args], { encoding: "utf8", cwd: repoRoot, env: { ...process.env, LABNOTE_DIR: "" }, maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("exp.compare, exp.best and the labnote command on a notebook's store", () => {
  let nb: NotebookRun;
  let kernel: KernelSession | undefined;
  before(async () => {
    nb = await runNotebook("lineage.ipynb");
    assert.equal(nb.result.error, null);
  });
  after(async () => {
    await kernel?.shutdown();
    nb?.cleanup();
  });

  it("exp.compare() returns { config, metrics, cells } and shows them in the cell as HTML with a text fallback", { timeout: 240_000 }, async () => {
    kernel = await KernelSession.start({ cwd: nb.dir, env: { LABNOTE_DIR: "" }, notebookPath: path.join(nb.dir, "compare.ipynb") });
    const run = async (code: string) => {
      const r = await kernel!.execute(code, { timeout: 90_000 });
      assert.equal(r.status, "ok", errorText(r.messages));
      return r;
    };
    await run('import { experiment } from "labnote";\nconst exp = await experiment("lineage");');
    const r = await run(
      'const c = await exp.compare("lineage/1", 2);\nconsole.log(JSON.stringify({ runs: c.runs.map((x) => x.id), differing: c.config.differing.length, metrics: c.metrics.map((m) => m.name), kinds: c.cells[0].changes.map((x) => x.kind) }));',
    );
    const summary = JSON.parse(streamText(r.messages, "stdout").trim());
    assert.deepEqual(summary.runs, ["lineage/1", "lineage/2"]);
    assert.equal(summary.differing, 0, "both runs have the experiment's config");
    assert.deepEqual(summary.metrics, ["loss"]);
    assert.deepEqual(summary.kinds, ["added", "changed", "again"], "the failing cell, train edited, the run cell again");
    const shown = displays(r.messages);
    assert.equal(shown.length, 1);
    const data = shown[0].content.data as Record<string, string>;
    assert.match(data["text/html"], /<b>Comparing<\/b> lineage\/1/);
    assert.match(data["text/html"], /background:#ffebe9">-\s+w -= run\.config\.lr \* \(w - target\)/);
    assert.match(data["text/html"], /background:#e6ffec">\+\s+w -= \(run\.config\.lr \/ 2\) \* \(w - target\)/);
    assert.match(data["text/plain"], /^Code lineage\/1 → lineage\/2: 3 cells differ, 4 the same$/m);
    assert.match(data["text/plain"], /^  \+\+\+ lineage\/2 \[\d+\] lineage\.ipynb$/m);
    const best = await run('const b = await exp.best("loss", "min");\nconsole.log(b?.id, b?.metrics.loss.last);');
    const [id, last] = streamText(best.messages, "stdout").trim().split(" ");
    const lasts = [1, 2].map((n) => JSON.parse(fs.readFileSync(path.join(nb.root, `lineage/${n}/run.json`), "utf8")).metrics.loss.last as number);
    assert.equal(id, `lineage/${lasts[0] <= lasts[1] ? 1 : 2}`);
    assert.equal(Number(last), Math.min(...lasts));
    const typo = await kernel.execute('await exp.best("los", "min");', { timeout: 60_000 });
    assert.match(errorText(typo.messages) ?? "", /No run of experiment "lineage" logged "los": did you mean "loss"\?/);
  });

  it("labnote show prints the run's lineage with sources, its notebook and its snapshot", () => {
    const r = labnote("show", "lineage/2", "--root", nb.root);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Code: its lineage, 7 cells of session \S+ \(▸ ran while the run was open\)$/m);
    assert.match(r.out, /^▸ \[\d+\] lineage\.ipynb · ok · /m);
    assert.match(r.out, /failed: .*a cell that fails/);
    assert.match(r.out, /w -= \(run\.config\.lr \/ 2\)/);
    assert.match(r.out, /^  snapshot   .*_labnote\/snapshots\/[0-9a-f]{64}\.ipynb \(.*lineage\.ipynb, /m);
    assert.doesNotMatch(r.out, /s3cr3t/, "the ignored cell stays out");
    const json = JSON.parse(labnote("show", "lineage/1", "--root", nb.root, "--json").out);
    assert.equal(json.code.source, "lineage");
    assert.equal(json.code.cells.length, 4);
    assert.match(json.code.cells[2].source, /w -= run\.config\.lr \* \(w - target\)/);
    assert.equal(json.snapshots.length, 1);
  });

  it("labnote compare shows the code diff; export --to json has both runs' points", () => {
    const r = labnote("compare", "lineage/1", "lineage/2", "--root", nb.root);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Config: 0 keys differ, 2 the same$/m);
    assert.match(r.out, /^  -    w -= run\.config\.lr \* \(w - target\)/m);
    assert.match(r.out, /^  \+    w -= \(run\.config\.lr \/ 2\) \* \(w - target\)/m);
    const c = JSON.parse(labnote("compare", "lineage/1", "lineage/2", "--root", nb.root, "--json").out) as RunComparison;
    assert.equal(c.runs[0].code, "lineage");
    const all = JSON.parse(labnote("export", "lineage", "--to", "json", "--root", nb.root).out);
    assert.deepEqual(all.runs.map((x: { metrics: { loss: { count: number } } }) => x.metrics.loss.count), [30, 30]);
  });

  it("gc keeps the session log, snapshot and cell blobs while a run refers to them, and frees them once none does", () => {
    const copy = path.join(nb.dir, "gc-copy");
    fs.cpSync(nb.root, copy, { recursive: true });
    const t = new Date(Date.now() - 3600_000);
    const age = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) age(p);
        fs.utimesSync(p, t, t);
      }
    };
    age(copy);
    assert.match(labnote("gc", "--root", copy).out, /^gc: nothing to free in /m);
    assert.equal(labnote("rm", "lineage/1", "lineage/2", "--root", copy).code, 0);
    const r = labnote("gc", "--root", copy);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^gc: freed .*: 2 runs in the trash \(.*\), \d+ blobs \(.*\), 1 session log \(.*\), 1 snapshot \(.*\)$/m);
    assert.deepEqual(fs.readdirSync(path.join(copy, SESSIONS_DIR)), []);
    assert.deepEqual(fs.readdirSync(path.join(copy, SNAPSHOTS_DIR)), []);
  });
});
