import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "./tmp";

const repo = path.resolve(__dirname, "../..");

describe("the shipped .d.ts", () => {
  it("compiles under TypeScript 5.0 (tslab's compiler) for a consumer using the public API", { timeout: 120_000 }, () => {
    execFileSync(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", path.join(repo, "tsconfig.json")], { stdio: "pipe" });
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, "use.ts"),
      `import { experiment, isLabnoteError, type RunRecord } from ${JSON.stringify(path.join(repo, "lib/index"))};
       interface Cfg { lr: number; optimizer: { name: string } }
       async function main() {
         const exp = await experiment<Cfg>("x", { config: { lr: 1, optimizer: { name: "sgd" } }, named: { fast: { lr: 2 } } });
         const run = await exp.start({ name: "a", config: { "optimizer.name": "adam" }, named: ["fast"] });
         const lr: number = run.config.lr;
         run.log("loss", lr); run.log({ a: 1 }, 2);
         await run.save({ w: [1] }, "m");
         await run.end();
         const recs: RunRecord[] = await exp.history();
         const t = await exp.runs(); t.numRows();
         const again = await exp.getRun(run.id); again.metric("loss").values;
         try { run.log("x", 1) } catch (e) { if (isLabnoteError(e)) e.code; }
         return recs;
       }
       main;`,
    );
    const tsc50 = path.join(repo, "node_modules/typescript-5.0/bin/tsc");
    const version = execFileSync(process.execPath, [tsc50, "--version"]).toString().trim();
    assert.equal(version, "Version 5.0.4");
    const args = [tsc50, "--noEmit", "--strict", "--target", "ES2020", "--module", "commonjs", "--moduleResolution", "node", "--types", "node", "--typeRoots", path.join(repo, "node_modules/@types"), path.join(dir, "use.ts")];
    try {
      execFileSync(process.execPath, args, { stdio: "pipe", cwd: repo });
    } catch (e) {
      assert.fail(`TypeScript 5.0 rejected the .d.ts:\n${(e as { stdout: Buffer }).stdout}`);
    }
    // and every shipped .d.ts on its own, without skipLibCheck
    const dts = (fs.readdirSync(path.join(repo, "lib"), { recursive: true }) as string[]).filter((f) => f.endsWith(".d.ts")).map((f) => path.join(repo, "lib", f));
    try {
      execFileSync(process.execPath, [tsc50, "--noEmit", "--strict", "--target", "ES2022", "--module", "commonjs", "--moduleResolution", "node", "--types", "node", "--typeRoots", path.join(repo, "node_modules/@types"), ...dts], { stdio: "pipe", cwd: repo });
    } catch (e) {
      assert.fail(`TypeScript 5.0 rejected a shipped .d.ts:\n${(e as { stdout: Buffer }).stdout}`);
    }
  });

  it("shows users only what they may call on Experiment, Run and FinishedRun: no internals", { timeout: 120_000 }, () => {
    execFileSync(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", path.join(repo, "tsconfig.json")], { stdio: "pipe" });
    const internals = ["init", "startSync", "begin", "fault", "endSync", "drainSync", "addCell", "updateCell", "seriesOf", "notify", "checkOpen", "of", "open", "create"];
    for (const file of ["core/experiment.d.ts", "core/run.d.ts", "history/finished.d.ts"]) {
      const text = fs.readFileSync(path.join(repo, "lib", file), "utf8");
      for (const name of internals) {
        const member = new RegExp(`^\\s+(?:static\\s+)?(?:readonly\\s+)?${name}\\s*[(<:?]`, "m");
        assert.doesNotMatch(text, member, `lib/${file} shows ${name}`);
      }
      // constructors are private: users open experiments with experiment() and get runs from them
      assert.match(text, /private constructor\(\);/, `lib/${file} has a public constructor`);
    }
  });
});
