/**
 * notebooks/lineage.ipynb, executed by nbclient with the real tslab kernel (registered by
 * `labnote install`, so with labnote's preload): the session log, each run's lineage, the
 * ignored cell kept out of everything, exportNotebook(), and each run exported as a notebook and
 * as a script that, executed in a fresh store, remake it. Then, in live kernels: a kernel
 * without the preload (the log starts at the import), `capture: { lineage: false }`, and a
 * session that never uses labnote (nothing written).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { executeNotebook, errorText, KernelSession, repoRoot, streamText } from "../helpers";
import { parseSessionLog, SESSIONS_DIR, SNAPSHOTS_DIR, type RunRecord, type SessionEntry } from "../../src/protocol";
import { runCode } from "../../src/history/code";
import { cards, cellIndex, cellText, makeWorkDir, readBlob, readMetrics, readNotebook, readRecord, runNotebook, sourceText, type NotebookRun } from "./support";

const EXP = "lineage";
const SECRET = "s3cr3t-t0ken";

/** `labnote <args>` through the built command line; its exit code and output. */
function labnote(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, "lib/cli/main.js"), ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one session log of a store, parsed. */
function sessionOf(root: string): ReturnType<typeof parseSessionLog> & { file: string } {
  const dir = path.join(root, SESSIONS_DIR);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
  assert.equal(files.length, 1, `expected one session log, found ${files.join(", ")}`);
  const file = path.join(dir, files[0]);
  return { ...parseSessionLog(fs.readFileSync(file, "utf8")), file };
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (fs.readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

/** A run's metric values by name. */
function values(root: string, n: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const p of readMetrics(root, EXP, n)) (out[p.metric] ??= []).push(p.value);
  return out;
}

describe("notebooks/lineage.ipynb", () => {
  let nb: NotebookRun;
  let first: RunRecord;
  let second: RunRecord;
  before(async () => {
    nb = await runNotebook("lineage.ipynb");
    first = readRecord(nb.root, EXP, 1);
    second = readRecord(nb.root, EXP, 2);
  });
  after(() => nb?.cleanup());

  it("is committed as a tslab notebook without outputs, the failing cell tagged", () => {
    const committed = readNotebook("lineage.ipynb");
    assert.equal(committed.metadata.kernelspec.name, "tslab");
    for (const c of committed.cells) if (c.cell_type === "code") assert.deepEqual(c.outputs, []);
    const tagged = committed.cells.filter((c) => c.metadata.tags?.includes("raises-exception"));
    assert.equal(tagged.length, 1);
  });

  it("keeps every executed cell in the session log from the kernel's first cell, with its source, times and outcome", () => {
    const log = sessionOf(nb.root);
    assert.deepEqual(log.problems, []);
    assert.equal(log.header?.from, "kernel");
    assert.equal(log.header?.notebook, path.join(nb.dir, "lineage.ipynb"));
    assert.ok(log.header!.pid > 0);
    const cells = nb.result.notebook.cells;
    const ignored = cellIndex(nb.result, "labnote: ignore");
    const executed = cells.map((c, i) => ({ c, i })).filter(({ c, i }) => c.cell_type === "code" && i !== ignored);
    assert.deepEqual(
      log.entries.map((e) => e.executionCount),
      executed.map(({ c }) => c.execution_count),
    );
    assert.deepEqual(
      log.entries.map((e) => readBlob(nb.root, e.sha256)),
      executed.map(({ c }) => sourceText(c.source as string)),
    );
    assert.deepEqual(log.entries.map((e) => e.i), log.entries.map((_, i) => i));
    const failing = cellIndex(nb.result, "a cell that fails");
    for (const [k, { i }] of executed.entries()) {
      const e: SessionEntry = log.entries[k];
      assert.equal(e.ok, i !== failing, `cell ${i}`);
      assert.ok(e.endTime >= e.startTime);
      assert.equal(e.notebook, path.join(nb.dir, "lineage.ipynb"));
    }
    assert.match(log.entries.find((e) => !e.ok)!.error ?? "", /a cell that fails/);
    // The first cell ran before labnote was imported.
    assert.match(readBlob(nb.root, log.entries[0].sha256), /^\/\/ Before labnote is imported/);
    assert.doesNotMatch(readBlob(nb.root, log.entries[0].sha256), /from "labnote"/);
  });

  it("keeps the ignored cell out of the log, the runs' cells and every file of the store", () => {
    const ignored = nb.result.notebook.cells[cellIndex(nb.result, "labnote: ignore")];
    assert.ok(ignored.execution_count, "the ignored cell ran");
    assert.ok(!sessionOf(nb.root).entries.some((e) => e.executionCount === ignored.execution_count));
    for (const r of [first, second]) assert.ok(!r.cells.some((c) => c.executionCount === ignored.execution_count));
    assert.deepEqual(filesContaining(nb.root, SECRET), []);
  });

  it("points each run at its lineage: the first's holds the original function, the second's the edited one", () => {
    const log = sessionOf(nb.root);
    const id = path.basename(log.file, ".jsonl");
    const runCell = (k: number) => nb.result.notebook.cells.filter((c) => c.cell_type === "code" && sourceText(c.source as string).startsWith("await exp.run"))[k].execution_count;
    const at = (count: number | null | undefined) => log.entries.findIndex((e) => e.executionCount === count);
    assert.deepEqual(first.lineage, { session: id, to: at(runCell(0)) + 1 });
    assert.deepEqual(second.lineage, { session: id, to: at(runCell(1)) + 1 });
    const a = runCode(nb.root, first);
    const b = runCode(nb.root, second);
    assert.equal(a.source, "lineage");
    assert.equal(b.source, "lineage");
    const trains = (cells: { source: string }[]) => cells.filter((c) => c.source.startsWith("function train"));
    assert.equal(trains(a.cells).length, 1);
    assert.doesNotMatch(trains(a.cells)[0].source, /Math\.abs/);
    assert.equal(trains(b.cells).length, 2);
    assert.match(trains(b.cells)[1].source, /Math\.abs/);
    assert.deepEqual(b.cells.map((c) => c.ok), [true, true, true, true, false, true, true]);
    // Its cells stay the cells that ran while it was open.
    assert.deepEqual(second.cells.map((c) => c.executionCount), [runCell(1)]);
    assert.equal(second.rerunOf, `${EXP}/1`);
  });

  it("says on each run's card which notebook cell started it, and which run a re-run re-ran", () => {
    const count = (k: number) => nb.result.notebook.cells.filter((c) => c.cell_type === "code" && sourceText(c.source as string).startsWith("await exp.run"))[k].execution_count;
    const all = cards(nb.messages);
    assert.equal(all.get(`${EXP}/1`)!.final.origin, `lineage.ipynb [${count(0)}]`);
    assert.equal(all.get(`${EXP}/2`)!.final.origin, `lineage.ipynb [${count(1)}]`);
    assert.equal(all.get(`${EXP}/2`)!.final.rerunOf, `${EXP}/1`);
    const last = all.get(`${EXP}/2`)!.messages.at(-1)!;
    assert.match(last.content.data["text/plain"], new RegExp(`from: lineage\\.ipynb \\[${count(1)}\\] · re-run of lineage/1`));
    assert.match(last.content.data["text/html"], new RegExp(`lineage\\.ipynb \\[${count(1)}\\] · re-run of lineage/1`));
  });

  it("snapshots the saved notebook with exportNotebook(), links this session's runs, and stores nothing new the second time", () => {
    const shown = JSON.parse(cellText(nb.result, cellIndex(nb.result, "const first = await exp.exportNotebook()")));
    const again = JSON.parse(cellText(nb.result, cellIndex(nb.result, "const again = await exp.exportNotebook()")));
    assert.deepEqual(shown.runs, [`${EXP}/1`, `${EXP}/2`]);
    assert.deepEqual(again, shown);
    assert.ok(fs.existsSync(shown.snapshot));
    const files = fs.readdirSync(path.join(nb.root, SNAPSHOTS_DIR)).sort();
    assert.equal(files.length, 2, files.join(", "));
    const sha = path.basename(shown.snapshot, ".ipynb");
    assert.deepEqual(files, [`${sha}.ipynb`, `${sha}.links.json`]);
    const links = JSON.parse(fs.readFileSync(path.join(nb.root, SNAPSHOTS_DIR, `${sha}.links.json`), "utf8"));
    assert.equal(links.format, 1);
    assert.equal(links.notebook, path.join(nb.dir, "lineage.ipynb"));
    assert.equal(links.session, first.lineage!.session);
    assert.deepEqual(links.runs, [`${EXP}/1`, `${EXP}/2`]);
    const snap = JSON.parse(fs.readFileSync(shown.snapshot, "utf8"));
    assert.equal(snap.cells.length, readNotebook("lineage.ipynb").cells.length);
    assert.ok(!fs.readFileSync(shown.snapshot, "utf8").includes(SECRET));
  });

  for (const n of [1, 2]) {
    it(`exports run ${n} as a notebook that, run from top to bottom in a fresh store, remakes it`, async () => {
      const dir = makeWorkDir(`lineage-remake-${n}`);
      try {
        const out = path.join(dir, "remake.ipynb");
        const r = labnote("export", `${EXP}/${n}`, "--to", "notebook", "--root", nb.root, "--out", out);
        assert.equal(r.code, 0, r.stderr);
        const exported = JSON.parse(fs.readFileSync(out, "utf8"));
        assert.equal(exported.nbformat, 4);
        assert.equal(exported.metadata.kernelspec.name, "tslab");
        const [about, pins, ...cells] = exported.cells;
        assert.equal(about.cell_type, "markdown");
        assert.match(about.source, new RegExp(`run ${EXP}/${n} "baseline"`));
        assert.match(about.source, /"lr": 0\.2/);
        assert.match(about.source, /lineage\.ipynb \[\d+\]/);
        assert.match(about.source, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
        assert.equal(pins.cell_type, "code");
        const record = n === 1 ? first : second;
        const code = runCode(nb.root, record);
        assert.deepEqual(cells.map((c: any) => c.metadata.labnote.executionCount), code.cells.map((c) => c.executionCount));
        assert.ok(cells.every((c: any) => c.cell_type === "markdown" || c.execution_count === null));
        if (n === 2) {
          assert.match(about.source, new RegExp(`${EXP}/1 "baseline" \\(seed ${first.seed}\\)`));
          const failed = cells.filter((c: any) => c.metadata.labnote.ok === false);
          assert.equal(failed.length, 1);
          assert.equal(failed[0].cell_type, "markdown");
          assert.match(failed[0].source, /```typescript\nthrow new Error/);
        }
        const result = await executeNotebook(out, { cwd: dir, env: { LABNOTE_DIR: "" }, timeout: 90_000, totalTimeout: 240_000 });
        assert.equal(result.error, null);
        const root = path.join(dir, "experiments");
        for (let k = 1; k <= n; k++) {
          const original = readRecord(nb.root, EXP, k);
          const remade = readRecord(root, EXP, k);
          assert.equal(remade.name, original.name);
          assert.deepEqual(remade.config, original.config);
          assert.equal(remade.seed, original.seed);
          assert.equal(remade.status, "completed");
          assert.deepEqual(values(root, k), values(nb.root, k));
        }
        assert.ok(!fs.existsSync(path.join(root, EXP, String(n + 1))), "only the runs of the lineage are remade");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("exports a run as a script that type-checks, runs, and remakes it and the runs before it", () => {
    const dir = makeWorkDir("lineage-script");
    try {
      const out = path.join(dir, "remake.ts");
      const r = labnote("export", `${EXP}/2`, "--to", "script", "--root", nb.root, "--out", out);
      assert.equal(r.code, 0, r.stderr);
      const text = fs.readFileSync(out, "utf8");
      assert.match(text, /^\/\/ # Reproduction of run lineage\/2 "baseline"/);
      assert.match(text, /\/\/ \*\*\[\d+\] failed in the original\*\*/);
      assert.ok(!text.includes(SECRET));
      // It type-checks under strict TypeScript, as one file.
      fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { target: "es2022", module: "commonjs", moduleResolution: "node", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] }, files: ["remake.ts"] }),
      );
      const tsc = spawnSync(process.execPath, [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir, encoding: "utf8", timeout: 120_000 });
      assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
      const root = path.join(dir, "experiments");
      const ran = spawnSync(process.execPath, ["--import", "tsx", out], { cwd: dir, encoding: "utf8", env: { ...process.env, LABNOTE_DIR: root, LABNOTE_PRELOAD: "0" }, timeout: 120_000 });
      assert.equal(ran.status, 0, ran.stderr);
      for (const k of [1, 2]) {
        const remade = readRecord(root, EXP, k);
        assert.equal(remade.seed, readRecord(nb.root, EXP, k).seed);
        assert.deepEqual(values(root, k), values(nb.root, k));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses an export of a run that does not exist, and --to notebook without a run", () => {
    const missing = labnote("export", `${EXP}/9`, "--to", "notebook", "--root", nb.root);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No run lineage\/9/);
    const none = labnote("export", "--to", "script", "--root", nb.root);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs a run id/);
  });
});

describe("the session log in live kernels", () => {
  const dirs: string[] = [];
  const kernels: KernelSession[] = [];
  after(async () => {
    for (const k of kernels) await k.shutdown();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function start(name: string, env: Record<string, string> = {}): Promise<{ kernel: KernelSession; dir: string; run: (code: string) => Promise<string> }> {
    const dir = makeWorkDir(name);
    dirs.push(dir);
    const kernel = await KernelSession.start({ cwd: dir, env: { LABNOTE_DIR: "", ...env }, notebookPath: path.join(dir, `${name}.ipynb`) });
    kernels.push(kernel);
    const run = async (code: string) => {
      const r = await kernel.execute(code, { timeout: 90_000 });
      assert.equal(r.status, "ok", errorText(r.messages));
      return streamText(r.messages);
    };
    return { kernel, dir, run };
  }

  it("writes nothing for a session that never starts a run, labnote imported or not", async () => {
    const { dir, run } = await start("lineage-unused");
    await run("const x = 1 + 1;");
    await run(`import * as labnote from "labnote";`);
    await run("x * 2");
    // The preload took itself out of NODE_OPTIONS: processes the kernel starts do not load it.
    assert.equal(await run("console.log(String(process.env.NODE_OPTIONS));"), "undefined\n");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["node_modules"]);
  });

  it("starts where labnote is imported without the preload, and the export says earlier cells are missing", async () => {
    const { dir, run } = await start("lineage-import", { LABNOTE_PRELOAD: "0" });
    await run("const before = 41;");
    await run(`import { experiment } from "labnote";\nconst exp = await experiment("imported", { config: { a: 1 } });`);
    await run(`await exp.run((run) => { run.log("x", before + run.random()); });`);
    const root = path.join(dir, "experiments");
    const log = sessionOf(root);
    assert.equal(log.header?.from, "import");
    assert.equal(log.entries.length, 2);
    assert.match(readBlob(root, log.entries[0].sha256), /^import \{ experiment \}/);
    assert.ok(log.entries[0].executionCount > 0, "the importing cell gets its execution count");
    const r = labnote("export", "imported/1", "--to", "notebook", "--root", root);
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.parse(r.stdout).cells[0].source, /the session log starts where labnote was imported: earlier cells are missing/i);
  });

  it("keeps a spanning run's lineage current while it is open, up to the cell that ended it", async () => {
    const { dir, run } = await start("lineage-span");
    await run(`import { experiment } from "labnote";\nconst exp = await experiment("span");`);
    await run(`const long = await exp.start({ name: "long", span: true });`);
    const root = path.join(dir, "experiments");
    await run(`long.log("x", 1);`);
    // The record is rewritten at each cell start; wait for the writer.
    const deadline = Date.now() + 10_000;
    while (readRecord(root, "span", 1).lineage?.to !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(readRecord(root, "span", 1).lineage?.to, 3);
    await run(`await long.end();`);
    await run(`const after = 1;`);
    const rec = readRecord(root, "span", 1);
    assert.equal(rec.status, "completed");
    assert.equal(rec.lineage?.to, 4);
    const code = runCode(root, rec);
    assert.equal(code.source, "lineage");
    assert.deepEqual(code.cells.map((c) => c.source.split("\n")[0]), [`import { experiment } from "labnote";`, `const long = await exp.start({ name: "long", span: true });`, `long.log("x", 1);`, `await long.end();`]);
    assert.equal(sessionOf(root).entries.length, 5, "cells after the run are logged too");
  });

  it("keeps no session log and no lineage with capture: { lineage: false }", async () => {
    const { dir, run } = await start("lineage-off");
    await run(`import { experiment } from "labnote";\nconst exp = await experiment("off", { capture: { lineage: false } });`);
    await run(`await exp.run((run) => { run.log("x", 1); });`);
    const root = path.join(dir, "experiments");
    const rec = readRecord(root, "off", 1);
    assert.equal(rec.lineage, undefined);
    assert.equal(rec.cells.length, 1);
    assert.ok(!fs.existsSync(path.join(root, SESSIONS_DIR)));
    assert.equal(runCode(root, rec).source, "cells");
  });
});
