/**
 * A notebook run through nbclient and the real tslab kernel with `mlflow: true`: MLflow's own
 * Python client finds the params, every point with its step, the notebook and cell tags, the
 * artifact and the cells' source, and FINISHED for the cell-scoped run.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { executeNotebook } from "../helpers";
import { doubles, MlflowServer, readMlflow } from "../helpers/mlflow";
import { makeWorkDir } from "./support";

const cells = [
  `import { experiment } from "labnote";
const exp = await experiment("nb-mlflow", { mlflow: true, capture: { sources: false, dependencies: false }, config: { lr: 0.1, model: { depth: 3 } } });`,
  `const run = await exp.start({ name: "in a notebook", tags: ["nb"] });
for (let i = 0; i < 1500; i++) run.log("loss", 1 / (i + 1));
run.log("val/acc", NaN);
await run.save({ weights: [4, 5] }, "model");`,
  `// The cell-scoped run ended with the cell above; wait until MLflow has all of it.
import * as fs from "node:fs";
for (let i = 0; i < 2400 && !JSON.parse(fs.readFileSync(run.dir + "/mlflow.json", "utf8")).done; i++) await new Promise((r) => setTimeout(r, 100));
console.log(JSON.parse(fs.readFileSync(run.dir + "/mlflow.json", "utf8")).done ? "delivered" : "not delivered");`,
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

  it("streams the cell's run into MLflow: params, every point, notebook and cell tags, the artifact, the cells, FINISHED", async () => {
    const file = path.join(dir, "mlflow.ipynb");
    fs.writeFileSync(file, notebookJson());
    const { notebook } = await executeNotebook(file, { cwd: dir, env: { LABNOTE_DIR: "", MLFLOW_TRACKING_URI: server.uri }, timeout: 300_000, totalTimeout: 420_000 });
    const last = JSON.stringify(notebook.cells[2].outputs);
    assert.match(last, /delivered/);
    assert.doesNotMatch(last, /not delivered/);

    const read = await readMlflow(server.uri, "nb-mlflow", "nb-mlflow/1", ["labnote/cells.ts", "artifacts/model.json"]);
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
    assert.equal(got.tags["labnote.cell"], "2");
    assert.equal(got.tags["labnote.tags"], "nb");
    assert.deepEqual(JSON.parse(got.files["artifacts/model.json"]), { weights: [4, 5] });
    assert.match(got.files["labnote/cells.ts"], /for \(let i = 0; i < 1500; i\+\+\) run\.log\("loss"/);
  });
});
