/**
 * The house rule, checked on every import in the code (type imports too): imports go one way,
 * protocol ← history ← core ← sinks ← kernel, cli; no file imports another that imports it back;
 * the protocol is pure (no Node, no DOM); the extension takes library code from src/protocol only.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.resolve(__dirname, "../..");

/** Every .ts file under a folder of the repository, as repository-relative paths. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(repo, d), { withFileTypes: true })) {
      const rel = `${d}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && e.name !== "lib" && e.name !== "dist") walk(rel);
      } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

/** The module names a file imports: import/export … from, import type, import("…"), require("…"). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const names = new Set<string>();
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) names.add(m[1]);
  return [...names];
}

/** The repository file an import names, or undefined for a package. */
function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const c of [`${base}.ts`, `${base}/index.ts`, base]) if (fs.existsSync(path.join(repo, c)) && fs.statSync(path.join(repo, c)).isFile()) return c;
  throw new Error(`${from} imports ${spec}, which is no file`);
}

/** The room of a file under src/, and what rooms it may import. */
const ROOMS: Record<string, string[]> = {
  protocol: [],
  history: ["protocol"],
  core: ["protocol", "history"],
  "sinks/file": ["protocol", "history", "core"],
  "sinks/notebook": ["protocol", "history", "core"],
  "sinks/tensorboard": ["protocol", "history", "core"],
  "sinks/mlflow": ["protocol", "history", "core"],
  kernel: ["protocol", "history", "core", "sinks/file", "sinks/notebook"],
  cli: ["protocol", "history", "core", "sinks/file", "sinks/tensorboard", "sinks/mlflow"],
  compose: ["protocol", "history", "core", "sinks/file", "sinks/tensorboard", "sinks/mlflow"],
  compat: ["protocol", "history", "core", "sinks/file", "compose"],
  index: ["protocol", "history", "core", "sinks/file", "sinks/notebook", "sinks/tensorboard", "sinks/mlflow", "kernel", "compose", "compat"],
};

function roomOf(file: string): string {
  const rel = file.replace(/^src\//, "").replace(/\.ts$/, "");
  const first = rel.startsWith("sinks/") ? rel.split("/").slice(0, 2).join("/") : rel.split("/")[0];
  if (!(first in ROOMS)) throw new Error(`${file} is in no room of the house (add it to the rule, with reasons, or move it)`);
  return first;
}

function graph(files: string[]): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files) {
    const deps = importsOf(fs.readFileSync(path.join(repo, f), "utf8"))
      .map((s) => resolve(f, s))
      .filter((x): x is string => x !== undefined);
    g.set(f, deps);
  }
  return g;
}

/** Groups of files that import each other, directly or around a loop (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe("the layout", () => {
  const lib = sources("src");
  const ext = sources("labextension/src");

  it("reads imports of every kind, type imports included", () => {
    const found = importsOf(`import a from "./a";\nimport type { B } from "./b";\nexport { c } from "./c";\nexport type { D } from "./d";\nconst e = require("./e");\ntype F = import("./f").F;\nimport "./g";\n// import x from "./commented";\nimport {\n  h,\n  type H,\n} from "./h";`);
    assert.deepEqual(found.sort(), ["./a", "./b", "./c", "./d", "./e", "./f", "./g", "./h"]);
  });

  it("has no cycle between files, in the library or the extension", () => {
    const found = cycles(graph([...lib, ...ext]));
    assert.deepEqual(found, [], `files that import each other:\n${found.map((c) => c.join(" → ")).join("\n")}`);
  });

  it("imports one way between rooms: protocol ← history ← core ← sinks ← kernel, cli; sinks know nothing of each other", () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph(lib)) {
      const room = roomOf(file);
      for (const d of deps) {
        const target = roomOf(d);
        if (target !== room && !ROOMS[room].includes(target)) wrong.push(`${file} (${room}) imports ${d} (${target})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("keeps the protocol pure: no package, Node or DOM import, and it compiles without Node's or the DOM's types", () => {
    const impure: string[] = [];
    for (const f of lib.filter((x) => x.startsWith("src/protocol/"))) {
      for (const s of importsOf(fs.readFileSync(path.join(repo, f), "utf8"))) if (!s.startsWith("./")) impure.push(`${f} imports ${s}`);
    }
    assert.deepEqual(impure, []);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-protocol-"));
    try {
      const config = path.join(dir, "tsconfig.json");
      fs.writeFileSync(config, JSON.stringify({ compilerOptions: { strict: true, noEmit: true, types: [], lib: ["ES2022"], target: "ES2022", module: "commonjs", noImplicitOverride: true }, files: [path.join(repo, "src/protocol/index.ts")] }));
      try {
        execFileSync(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", config], { stdio: "pipe" });
      } catch (e) {
        assert.fail(`src/protocol needs Node or DOM types:\n${(e as { stdout: Buffer }).stdout}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lets the extension take library code from src/protocol only", () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph(ext)) for (const d of deps) if (!d.startsWith("labextension/src/") && !d.startsWith("src/protocol/")) wrong.push(`${file} imports ${d}`);
    assert.deepEqual(wrong, []);
  });
});
