/**
 * The pure rules of the way back from MLflow: params as config values, dotted keys nested again,
 * MLflow's statuses as labnote's.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { flattenConfig, unflattenConfig } from "../../src/protocol";
import { labnoteStatus, paramValue } from "../../src/sinks/mlflow/import";

describe("MLflow runs read back", () => {
  it("reads a param as the JSON value it spells, other than a string, and anything else as its text", () => {
    assert.equal(paramValue("0.01"), 0.01);
    assert.equal(paramValue("-3"), -3);
    assert.equal(paramValue("1e-5"), 1e-5);
    assert.equal(paramValue("true"), true);
    assert.equal(paramValue("null"), null);
    assert.deepEqual(paramValue("[64, 32]"), [64, 32]);
    assert.deepEqual(paramValue('{"a":1}'), { a: 1 });
    assert.equal(paramValue("adam"), "adam");
    assert.equal(paramValue("True"), "True", "Python's True stays text");
    assert.equal(paramValue('"quoted"'), '"quoted"');
    assert.equal(paramValue("0.01 "), 0.01);
    assert.equal(paramValue("1.2.3"), "1.2.3");
    assert.equal(paramValue(""), "");
  });

  it("nests dotted keys again, the inverse of the flattening the sink sends; a key that clashes stays whole", () => {
    const config = { lr: 0.1, model: { depth: 3, act: { name: "relu" } }, layers: [8, 4], empty: {} };
    assert.deepEqual(unflattenConfig(flattenConfig(config)), config);
    assert.deepEqual(unflattenConfig({ a: 1, "a.b": 2, "c.d": 3 }), { a: 1, "a.b": 2, c: { d: 3 } });
    assert.deepEqual(unflattenConfig({ "x..y": 1, ".z": 2 }), { "x..y": 1, ".z": 2 });
    assert.deepEqual(unflattenConfig({ "o.p": { q: 1 }, "o.p.q": 2 }), { o: { p: { q: 1 } }, "o.p.q": 2 });
  });

  it("maps MLflow's statuses to labnote's", () => {
    assert.equal(labnoteStatus("FINISHED"), "completed");
    assert.equal(labnoteStatus("FAILED"), "failed");
    assert.equal(labnoteStatus("KILLED"), "interrupted");
    assert.equal(labnoteStatus("RUNNING"), "running");
    assert.equal(labnoteStatus("SCHEDULED"), "running");
  });
});
