import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, isLabnoteError, loadConfig } from "../../src";
import { tempDir, warningsDuring } from "./tmp";

const defaults = { lr: 0.01, epochs: 10, optimizer: { name: "sgd", momentum: 0.9 }, layers: [64, 32] };

describe("config", () => {
  it("layers defaults < named configs in order < run updates, with dotted keys", async () => {
    const exp = await experiment("c", {
      root: tempDir(),
      capture: false,
      config: defaults,
      named: { fast: { epochs: 1, lr: 0.1 }, slowlr: { lr: 0.001 }, adam: { "optimizer.name": "adam" } },
    });
    const run = await exp.start({ named: ["fast", "slowlr", "adam"], config: { "optimizer.momentum": 0.5 } });
    assert.deepEqual(JSON.parse(JSON.stringify(run.config)), { lr: 0.001, epochs: 1, optimizer: { name: "adam", momentum: 0.5 }, layers: [64, 32] });
    await run.end();
    const [rec] = await exp.history();
    assert.deepEqual(rec.modified.sort(), ["epochs", "lr", "optimizer.momentum", "optimizer.name"]);
    assert.deepEqual(rec.added, []);
    assert.deepEqual(rec.named, ["fast", "slowlr", "adam"]);
  });

  it("merges nested update objects and replaces arrays", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: defaults });
    const run = await exp.start({ config: { optimizer: { momentum: 0 }, layers: [8] } });
    assert.equal(run.config.optimizer.name, "sgd");
    assert.equal(run.config.optimizer.momentum, 0);
    assert.deepEqual([...run.config.layers], [8]);
    await run.end();
    assert.deepEqual((await exp.history())[0].modified.sort(), ["layers", "optimizer.momentum"]);
  });

  it("records a key the defaults lack as added and warns about a probable typo", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: defaults });
    const warnings = await warningsDuring(async () => (await exp.start({ config: { "optimizer.momentun": 0.1 } })).end());
    assert.ok(warnings.some((w) => w.includes('"optimizer.momentun"') && w.includes('did you mean "optimizer.momentum"')), warnings.join("\n"));
    assert.deepEqual((await exp.history())[0].added, ["optimizer.momentun"]);
  });

  it("counts a key the defaults lack as added only, not also as modified", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: defaults });
    await warningsDuring(async () => {
      const run = await exp.start({ config: { learning_rate: 0.3, lr: 0.02 } });
      assert.deepEqual(run.record().added, ["learning_rate"]);
      assert.deepEqual(run.record().modified, ["lr"]);
      await run.end();
    });
  });

  it("with strict: true refuses a key the defaults lack, naming it and the nearest default", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: defaults, strict: true });
    await assert.rejects(exp.start({ config: { learning_rate: 0.3 } }), (e: unknown) => {
      assert.ok(isLabnoteError(e));
      assert.equal(e.code, "CONFIG_UNKNOWN_KEY");
      assert.match(e.message, /"learning_rate" is not in the defaults of experiment "c".*did you mean "lr"\?/);
      return true;
    });
    assert.equal(exp.openRuns.length, 0);
    assert.equal((await exp.history()).length, 0, "no run was started");
    const ok = await exp.start({ config: { lr: 0.5 } });
    await ok.end();
  });

  it("with no defaults at all says so once, instead of a warning per key", async () => {
    const exp = await experiment("nodefaults", { root: tempDir(), capture: false });
    const warnings = await warningsDuring(async () => {
      await exp.run(async () => undefined, { config: { a: 1, b: 2, c: { d: 3 } } });
      await exp.run(async () => undefined, { config: { a: 2 } });
    });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /experiment "nodefaults" has no default config, so every config key is recorded as added/);
    const [first] = await exp.history();
    assert.deepEqual(first.added, ["a", "b", "c.d"]);
    assert.deepEqual(first.modified, []);
  });

  it("refuses an unknown named config, listing the known ones", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: defaults, named: { fast: { epochs: 1 } } });
    await assert.rejects(exp.start({ named: ["fats"] }), (e: unknown) => isLabnoteError(e) && e.code === "UNKNOWN_NAMED_CONFIG" && /"fast"/.test(e.message));
  });

  it("makes run.config deeply read-only with a clear error", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: defaults });
    const run = await exp.start();
    const cfg = run.config as unknown as Record<string, any>;
    assert.throws(() => (cfg.lr = 1), (e: unknown) => isLabnoteError(e) && e.code === "CONFIG_FROZEN" && /run\.config\.lr/.test(e.message));
    assert.throws(() => (cfg.optimizer.momentum = 1), /run\.config\.optimizer\.momentum/);
    assert.throws(() => cfg.layers.push(1), /CONFIG_FROZEN|read-only/);
    assert.throws(() => delete cfg.epochs, /Cannot delete run\.config\.epochs/);
    assert.equal(run.config.lr, 0.01);
    await run.end();
  });

  it("loads defaults and named configs from JSON and YAML files", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "base.yaml"), "lr: 0.5\noptimizer:\n  name: adam\n  beta: 0.9\n");
    fs.writeFileSync(path.join(dir, "fast.json"), JSON.stringify({ lr: 2 }));
    fs.writeFileSync(path.join(dir, "broken.yaml"), "lr: [1,\n");
    assert.deepEqual(loadConfig(path.join(dir, "base.yaml")), { lr: 0.5, optimizer: { name: "adam", beta: 0.9 } });
    const exp = await experiment("c", { root: path.join(dir, "x"), capture: false, config: path.join(dir, "base.yaml"), named: { fast: path.join(dir, "fast.json") } });
    const run = await exp.start({ named: ["fast"] });
    assert.equal(run.config.lr, 2);
    assert.equal((run.config as any).optimizer.beta, 0.9);
    await run.end();
    assert.throws(() => loadConfig(path.join(dir, "broken.yaml")), (e: unknown) => isLabnoteError(e) && e.code === "CONFIG_LOAD" && e.message.includes("broken.yaml"));
    assert.throws(() => loadConfig(path.join(dir, "missing.json")), /Cannot read config file/);
  });

  it("types run.config from experiment<C>()", async () => {
    interface Cfg {
      lr: number;
      optimizer: { name: string };
    }
    const exp = await experiment<Cfg>("c", { root: tempDir(), capture: false, config: { lr: 1, optimizer: { name: "sgd" } } });
    const run = await exp.start();
    const lr: number = run.config.lr;
    const name: string = run.config.optimizer.name;
    assert.equal(lr + name.length, 4);
    await run.end();
  });
});

describe("capture (injection)", () => {
  it("fills missing positional arguments by parameter name from the open run's config", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: { lr: 0.1, epochs: 3 } });
    const train = exp.capture(function train(lr: number, /* how long */ epochs = 99, extra?: string) {
      return [lr, epochs, extra];
    });
    assert.deepEqual(train(), [0.1, 3, undefined]); // defaults when no run is open
    const run = await exp.start({ config: { lr: 0.5 } });
    assert.deepEqual(train(), [0.5, 3, undefined]);
    assert.deepEqual(train(7), [7, 3, undefined]); // explicit wins
    assert.deepEqual(train(undefined, 1, "x"), [0.5, 1, "x"]);
    await run.end();
  });

  it("understands arrow functions, async functions, defaults with commas and methods", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: { a: 1, b: 2 } });
    assert.deepEqual(exp.capture((a: number, b = [1, 2].map((x) => x, 0)) => [a, b])(), [1, 2]);
    assert.deepEqual(await exp.capture(async (b: number) => b)(), 2);
    const obj = {
      m(a: number, b: number) {
        return a + b;
      },
    };
    assert.equal(exp.capture(obj.m)(), 3);
  });

  it("fills a single options object by property; explicit properties win", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: { lr: 0.1, epochs: 3, other: 1 } });
    const f = exp.capture(({ lr, epochs, batch = 32 }: { lr?: number; epochs?: number; batch?: number } = {}) => ({ lr, epochs, batch }));
    assert.deepEqual(f(), { lr: 0.1, epochs: 3, batch: 32 });
    assert.deepEqual(f({ epochs: 9 }), { lr: 0.1, epochs: 9, batch: 32 });
  });

  it("reads from a prefix of the config", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false, config: { optimizer: { name: "sgd", momentum: 0.9 } } });
    const make = exp.capture((name: string, momentum: number) => `${name}@${momentum}`, { prefix: "optimizer" });
    assert.equal(make(), "sgd@0.9");
  });

  it("refuses classes and native functions clearly", async () => {
    const exp = await experiment("c", { root: tempDir(), capture: false });
    assert.throws(() => exp.capture(Math.max), /native/);
    assert.throws(() => exp.capture(class A {} as unknown as () => void), /not classes/);
  });
});
