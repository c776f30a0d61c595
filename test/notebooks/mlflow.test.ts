/**
 * A notebook run through nbclient and the real tslab kernel with `mlflow: true`: MLflow's own
 * Python client finds the params, every point with its step, the notebook and cell tags, the
 * artifact, the cells' source and the lineage (a notebook and a .ts file that reproduce the
 * run), and FINISHED for the cell-scoped run. The export switches hold: an experiment with
 * `capture: { lineage: false }` sends no lineage, and a `// labnote: ignore` cell's text is
 * nowhere in MLflow (artifacts, params, tags).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { executeNotebook } from "../helpers";
import { doubles, MlflowServer, readMlflow } from "../helpers/mlflow";
import { makeWorkDir } from "./support";

const IGNORED = "IGNORED-CELL-TEXT-5c2d";

const cells = [
  `import { experiment } from "labnote";
const exp = await experiment("nb-mlflow", { mlflow: true, capture: { sources: false, dependencies: false }, config: { lr: 0.1, model: { depth: 3 } } });
const quiet = await experiment("nb-mlflow-nolineage", { mlflow: true, capture: { sources: false, dependencies: false, lineage: false } });`,
  `// labnote: ignore
const hidden = "${IGNORED}";
console.log(hidden.length);`,
  `const run = await exp.start({ name: "in a notebook", tags: ["nb"] });
for (let i = 0; i < 1500; i++) run.log("loss", 1 / (i + 1));
run.log("val/acc", NaN);
await run.save({ weights: [4, 5] }, "model");`,
  `// The cell-scoped run ended with the cell above; wait until MLflow has all of it.
import * as fs from "node:fs";
for (let i = 0; i < 2400 && !JSON.parse(fs.readFileSync(run.dir + "/mlflow.json", "utf8")).done; i++) await new Promise((r) => setTimeout(r, 100));
console.log(JSON.parse(fs.readFileSync(run.dir + "/mlflow.json", "utf8")).done ? "delivered" : "not delivered");`,
  `const run2 = await quiet.start({ name: "no lineage" });
run2.log("loss", 1);`,
  `for (let i = 0; i < 2400 && !JSON.parse(fs.readFileSync(run2.dir + "/mlflow.json", "utf8")).done; i++) await new Promise((r) => setTimeout(r, 100));
console.log(JSON.parse(fs.readFileSync(run2.dir + "/mlflow.json", "utf8")).done ? "delivered" : "not delivered");`,
];

function notebookJson(): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({ cell_type: "code", execution_count: null, id: `c${i}`, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" }, language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

describe("a notebook with mlflow: true", () => {
  let server: MlflowServer;
  let dir: string;
  before(async () => {
    server = await MlflowServer.start();
    dir = makeWorkDir("mlflow");
  });
  after(async () => {
    await server?.stop({ remove: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("streams the cell's run into MLflow: params, every point, notebook and cell tags, the artifact, the cells and lineage, FINISHED; no lineage when it is off, no ignored cell anywhere", async () => {
    const file = path.join(dir, "mlflow.ipynb");
    fs.writeFileSync(file, notebookJson());
    const { notebook } = await executeNotebook(file, { cwd: dir, env: { LABNOTE_DIR: "", MLFLOW_TRACKING_URI: server.uri }, timeout: 300_000, totalTimeout: 420_000 });
    for (const i of [3, 5]) {
      const out = JSON.stringify(notebook.cells[i].outputs);
      assert.match(out, /delivered/);
      assert.doesNotMatch(out, /not delivered/);
    }

    const read = await readMlflow(server.uri, "nb-mlflow", "nb-mlflow/1", ["labnote/cells.ts", "artifacts/model.json", "labnote/lineage.ipynb", "labnote/lineage.ts"]);
    assert.equal(read.runs.length, 1);
    const got = read.runs[0];
    assert.equal(got.info.status, "FINISHED");
    assert.equal(got.info.run_name, "in a notebook");
    assert.deepEqual(got.params, { lr: "0.1", "model.depth": "3" });
    assert.equal(got.metrics.loss.steps.length, 1500);
    assert.deepEqual(got.metrics.loss.steps, Array.from({ length: 1500 }, (_, i) => i));
    assert.deepEqual([...doubles(got.metrics.loss.values)], Array.from({ length: 1500 }, (_, i) => 1 / (i + 1)));
    assert.ok(Number.isNaN(doubles(got.metrics["val/acc"].values)[0]));
    assert.equal(got.tags["mlflow.source.type"], "NOTEBOOK");
    assert.match(got.tags["labnote.notebook"], /mlflow\.ipynb$/);
    assert.equal(got.tags["labnote.cell"], "3");
    assert.equal(got.tags["labnote.tags"], "nb");
    assert.deepEqual(JSON.parse(got.files["artifacts/model.json"]), { weights: [4, 5] });
    assert.match(got.files["labnote/cells.ts"], /for \(let i = 0; i < 1500; i\+\+\) run\.log\("loss"/);
    // The lineage: the cells of the session up to the run's end, as labnote export --to notebook|script builds them.
    const nb = JSON.parse(got.files["labnote/lineage.ipynb"]) as { metadata: { labnote: { reproduces: string } }; cells: { cell_type: string; source: string }[] };
    assert.equal(nb.metadata.labnote.reproduces, "nb-mlflow/1");
    const code = nb.cells.filter((c) => c.cell_type === "code").map((c) => c.source);
    assert.ok(code.some((c) => c.includes('experiment("nb-mlflow"')), "the experiment's cell");
    assert.ok(code.some((c) => c.includes('run.log("loss"')), "the run's cell");
    assert.match(got.files["labnote/lineage.ts"], /pinSeeds\(/);
    assert.match(got.files["labnote/lineage.ts"], /run\.log\("loss", 1 \/ \(i \+ 1\)\)/);

    const off = await readMlflow(server.uri, "nb-mlflow-nolineage", "nb-mlflow-nolineage/1", ["labnote/cells.ts"]);
    assert.equal(off.runs.length, 1);
    assert.equal(off.runs[0].info.status, "FINISHED");
    assert.ok(off.runs[0].artifacts.includes("labnote/cells.ts"), off.runs[0].artifacts.join(", "));
    assert.deepEqual(off.runs[0].artifacts.filter((a) => a.startsWith("labnote/lineage")), [], "capture: { lineage: false } sends no lineage");

    // labnote export --to mlflow of the same run, into another MLflow experiment: the same code.
    const exported = spawnSync(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../src/cli/main.ts"), "export", "nb-mlflow/1", "--to", "mlflow", "--tracking-uri", server.uri, "--mlflow-experiment", "nb-exported", "--root", path.join(dir, "experiments")], { encoding: "utf8", timeout: 300_000 });
    assert.equal(exported.status, 0, `${exported.stdout}\n${exported.stderr}`);
    const copy = (await readMlflow(server.uri, "nb-exported", "nb-mlflow/1", ["labnote/lineage.ipynb", "labnote/lineage.ts", "labnote/cells.ts"])).runs[0];
    assert.equal(copy.info.status, "FINISHED");
    for (const file of ["labnote/lineage.ipynb", "labnote/lineage.ts", "labnote/cells.ts"]) assert.equal(copy.files[file], got.files[file], `${file} as the sink sent it`);
    assert.equal(copy.metrics.loss.steps.length, 1500);

    // The ignored cell's text is in no artifact, param or tag of any of the runs.
    for (const [name, id, arts] of [["nb-mlflow", "nb-mlflow/1", got.artifacts], ["nb-mlflow-nolineage", "nb-mlflow-nolineage/1", off.runs[0].artifacts], ["nb-exported", "nb-mlflow/1", copy.artifacts]] as const) {
      const all = (await readMlflow(server.uri, name, id, [...arts])).runs[0];
      assert.equal(Object.keys(all.files).length, arts.length);
      for (const [file, text] of Object.entries(all.files)) {
        assert.doesNotMatch(text, /<error:/, `${id} ${file} could not be read`);
        assert.ok(!text.includes(IGNORED), `${id}: the ignored cell is in the artifact ${file}`);
      }
      assert.ok(!JSON.stringify(all.params).includes(IGNORED) && !JSON.stringify(all.tags).includes(IGNORED), `${id}: the ignored cell is in a param or tag`);
    }
  });
});
