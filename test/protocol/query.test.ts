import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QuerySyntaxError, matchRecord, parseQuery, parseRunRecord, queryProblems, type RunRecord } from "../../src/protocol";

function rec(n: number, o: Partial<RunRecord> & Record<string, unknown> = {}): RunRecord {
  const r = parseRunRecord({ format: 1, experiment: "sweep", number: n, status: "completed", startTime: 1000, ...o });
  assert.ok(r.ok);
  return r.record;
}

const runs = [
  rec(1, { name: "adam-small", tags: ["v1"], config: { optimizer: { name: "adam", lr: 0.001 }, model: { hidden: 64 }, seed: 1 }, metrics: { loss: { count: 10, lastStep: 9, last: 0.05, min: 0.04, max: 2 } }, duration: 4000 }),
  rec(2, { name: "sgd-big", tags: ["v2"], config: { optimizer: { name: "sgd", lr: 0.05 }, model: { hidden: 128 }, seed: 1 }, metrics: { loss: { count: 10, lastStep: 9, last: 0.01, min: 0.01, max: 3 } }, duration: 90_000 }),
  rec(3, { name: "adam-big", status: "failed", tags: ["v1", "long run"], config: { optimizer: { name: "adam", lr: 0.01 }, model: { hidden: 64.0 }, seed: 2 }, metrics: { loss: { count: 3, lastStep: 2, last: NaN, min: 0.5, max: 9 } } }),
];
const ids = (q: string) => runs.filter((r) => matchRecord(parseQuery(q), r)).map((r) => r.number);

describe("the filter language", () => {
  it("compares config keys as dotted, or by their last segment when that names one key", () => {
    assert.deepEqual(ids("optimizer.lr<0.01"), [1]);
    assert.deepEqual(ids("lr<0.01"), [1]);
    assert.deepEqual(ids("lr<=0.01"), [1, 3]);
    assert.deepEqual(ids("hidden=64"), [1, 3], "64.0 is 64");
    assert.deepEqual(ids("model.hidden>=100"), [2]);
    assert.deepEqual(ids("config.seed=2"), [3]);
  });

  it("reads fields: status, name, tags, duration in seconds", () => {
    assert.deepEqual(ids("status=completed"), [1, 2]);
    assert.deepEqual(ids("status!=completed"), [3]);
    assert.deepEqual(ids("tag:v1"), [1, 3]);
    assert.deepEqual(ids("tag!=v1"), [2]);
    assert.deepEqual(ids('tag="long run"'), [3]);
    assert.deepEqual(ids("name~adam"), [1, 3], "name is the run's name, not optimizer.name");
    assert.deepEqual(ids("name~^adam-s"), [1]);
    assert.deepEqual(ids("name~*big$"), [2, 3]);
    assert.deepEqual(ids("name~/^(sgd|adam)-big$/"), [2, 3]);
    assert.deepEqual(ids("duration>60"), [2]);
    assert.deepEqual(ids("optimizer.name=ADAM"), [1, 3], "= on text ignores case");
  });

  it("reads metric summaries: .min .max .last .count, bare name = last, NaN never below a bound", () => {
    assert.deepEqual(ids("loss.min<0.1"), [1, 2]);
    assert.deepEqual(ids("loss<0.03"), [2]);
    assert.deepEqual(ids("loss.last<0.03"), [2]);
    assert.deepEqual(ids("loss.max>=3"), [2, 3]);
    assert.deepEqual(ids("loss.count=3"), [3]);
    assert.deepEqual(ids("loss=NaN"), [3]);
  });

  it("lets a config key win over a metric of the same name", () => {
    const both = rec(4, { config: { lr: 0.1 }, metrics: { lr: { count: 1, lastStep: 0, last: 0.5, min: 0.5, max: 0.5 } } });
    assert.ok(matchRecord(parseQuery("lr=0.1"), both));
    assert.ok(!matchRecord(parseQuery("lr=0.5"), both));
  });

  it("matches plain words against names, tags, ids and the status; every term must hold", () => {
    assert.deepEqual(ids("adam"), [1, 3]);
    assert.deepEqual(ids("adam big"), [3]);
    assert.deepEqual(ids("failed"), [3]);
    assert.deepEqual(ids("sweep/2"), [2]);
    assert.deepEqual(ids('"long run"'), [3]);
    assert.deepEqual(ids("adam tag:v1 status=completed lr<0.01"), [1]);
  });

  it("reads a config key followed by a number as key=number: hidden 64, lr 0.01 (never a metric's value)", () => {
    assert.deepEqual(ids("hidden 64"), [1, 3]);
    assert.deepEqual(ids("lr 0.01"), [3], "0.01 is run 2's loss, not its lr");
    assert.deepEqual(ids("lr 0.05"), [2]);
  });

  it("says where a filter is wrong, with the column and a caret", () => {
    const bad: [string, number, RegExp][] = [
      ["lr<", 3, /needs a value/],
      ["status=completed <0.1", 18, /needs a key/],
      ['name="adam', 6, /unclosed double quote/],
      ["lr<<0.1", 4, /unexpected "<"/],
      ["tag<v1", 4, /tags compare with/],
      ["name~/(/", 6, /invalid regular expression/],
      ["lr ! 3", 4, /lone "!"/],
    ];
    for (const [text, column, reason] of bad) {
      assert.throws(
        () => parseQuery(text),
        (e: unknown) => {
          assert.ok(e instanceof QuerySyntaxError, text);
          assert.equal(e.column, column, text);
          assert.match(e.reason, reason);
          assert.equal(e.message.split("\n")[2], "  " + " ".repeat(column - 1) + "^");
          assert.match(e.message, new RegExp(`at column ${column}\\n  ${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n`));
          return true;
        },
      );
    }
  });

  it("names keys no run has, with a did-you-mean, and keys that name several config keys", () => {
    assert.deepEqual(queryProblems(parseQuery("hiden=64 lr<1"), runs), ['no run has a config key or metric "hiden"; did you mean "hidden"?']);
    const two = rec(5, { config: { encoder: { hidden: 1 }, decoder: { hidden: 2 } } });
    assert.deepEqual(queryProblems(parseQuery("hidden=1"), [two]), ['"hidden" names several config keys (decoder.hidden, encoder.hidden); write the full key']);
    assert.ok(!matchRecord(parseQuery("hidden=1"), two));
    assert.deepEqual(queryProblems(parseQuery("adam status=failed loss.min<1"), runs), []);
  });
});
