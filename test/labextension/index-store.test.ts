import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import type { Contents } from "@jupyterlab/services";
import { RunStore, type ContentsReader } from "../../labextension/src/model/store";
import { experiment, whenWritten } from "../../src";
import { ANNOTATIONS_FILE, INDEX_FILES, annotationsJson } from "../../src/protocol";
import { httpError } from "./fake-contents";

const alive = { dead: () => false };

/** The contents API over a real folder, as Jupyter answers: hidden files left out, times in ms, 404 for what is missing. */
function diskContents(base: string): ContentsReader & { gets: string[] } {
  const gets: string[] = [];
  const model = (rel: string, st: fs.Stats) => ({ name: path.basename(rel), path: rel, type: st.isDirectory() ? "directory" : "file", size: st.size, last_modified: new Date(st.mtimeMs).toISOString() });
  return {
    gets,
    async get(rel: string): Promise<Contents.IModel> {
      gets.push(rel);
      const full = path.join(base, rel);
      let st: fs.Stats;
      try {
        st = fs.statSync(full);
      } catch {
        throw httpError(404, `No such file or directory: ${rel}`);
      }
      if (!st.isDirectory()) return { ...model(rel, st), content: fs.readFileSync(full, "utf8") } as unknown as Contents.IModel;
      const content = fs
        .readdirSync(full)
        .filter((n) => !n.startsWith("."))
        .map((n) => model(rel ? `${rel}/${n}` : n, fs.statSync(path.join(full, n))));
      return { ...model(rel, st), content } as unknown as Contents.IModel;
    },
  };
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-index-store-"));
  after(async () => {
    await whenWritten();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function makeRuns(root: string, n: number): Promise<void> {
  const exp = await experiment("exp", { root, capture: false, config: { lr: 0.1 } });
  for (let i = 0; i < n; i++) {
    const run = await exp.start({ name: `r${i + 1}`, config: { lr: 0.01 * (i + 1) } });
    run.log("loss", 1 / (i + 1));
    await run.end();
  }
  await whenWritten();
}

describe("the browser's store reader and the experiment index", () => {
  it("loads an experiment's runs in a listing and the index files, not a request per run", async () => {
    const base = tempDir();
    await makeRuns(path.join(base, "experiments"), 30);
    const contents = diskContents(base);
    const store = new RunStore(contents, "experiments");
    const r = await store.runs("exp", alive);
    assert.ok(r.ok);
    assert.equal(r.runs.length, 30);
    assert.deepEqual(r.runs.slice(0, 2).map((x) => x.record.name), ["r30", "r29"]);
    assert.equal(r.runs[0].config.get("lr"), "0.3");
    assert.equal(r.runs[0].record.metrics.loss.last, 1 / 30);
    assert.ok(r.runs.every((x) => x.partial));
    assert.ok(contents.gets.length <= 3, `requests: ${contents.gets.join(", ")}`);
    assert.ok(!contents.gets.some((g) => g.endsWith("run.json")));
    assert.deepEqual(store.lastLoad, { fromIndex: 30, fetched: 0, damaged: 0 });
    // the detail view still gets the whole record
    const full = await store.full(r.runs[0]);
    assert.equal(full.partial, false);
    assert.ok(contents.gets.includes("experiments/exp/30/run.json"));
  });

  it("answers quick reads from the index alone, without listing 10,000 folders, and sees a run that just started", async () => {
    const base = tempDir();
    const root = path.join(base, "experiments");
    await makeRuns(root, 5);
    const contents = diskContents(base);
    const store = new RunStore(contents, "experiments");
    const quick = await store.runs("exp", alive, Date.now(), { quick: true });
    assert.ok(quick.ok);
    assert.equal(quick.checked, false);
    assert.equal(quick.runs.length, 5);
    assert.ok(!contents.gets.includes("experiments/exp"), `no listing: ${contents.gets.join(", ")}`);
    const full = await store.runs("exp", alive);
    assert.ok(full.ok && full.checked);
    // A run started since the listing: in the index from its start, so a quick read shows it.
    const exp = await experiment("exp", { root, capture: false });
    const run = await exp.start({ name: "new one" });
    const seen = await store.runs("exp", alive, Date.now(), { quick: true });
    assert.ok(seen.ok);
    assert.deepEqual(seen.runs.slice(0, 1).map((r) => [r.record.name, r.record.status]), [["new one", "running"]]);
    await run.end();
  });

  it("fetches only the run folders that changed since their entry or have none, with their annotations; a damaged index costs requests, not runs", async () => {
    const base = tempDir();
    const root = path.join(base, "experiments");
    await makeRuns(root, 10);
    await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(path.join(root, "exp", "4", ANNOTATIONS_FILE), annotationsJson({ notes: "look here", tags: ["best"], time: Date.now() }));
    fs.appendFileSync(path.join(root, "exp", INDEX_FILES.log), "{torn");
    const contents = diskContents(base);
    const store = new RunStore(contents, "experiments");
    const r = await store.runs("exp", alive);
    assert.ok(r.ok);
    assert.equal(r.runs.length, 10);
    const four = r.runs.find((x) => x.record.number === 4)!;
    assert.equal(four.record.notes, "look here");
    assert.deepEqual(four.record.tags, ["best"]);
    assert.deepEqual(four.annotations?.tags, ["best"]);
    assert.equal(four.partial, undefined);
    assert.deepEqual(store.lastLoad, { fromIndex: 9, fetched: 1, damaged: 1 });
    // no index at all: every folder is read, every run still shows
    fs.rmSync(path.join(root, "exp", INDEX_FILES.index));
    fs.rmSync(path.join(root, "exp", INDEX_FILES.log));
    const bare = await new RunStore(diskContents(base), "experiments").runs("exp", alive);
    assert.ok(bare.ok);
    assert.equal(bare.runs.length, 10);
    assert.equal(bare.runs.find((x) => x.record.number === 4)!.record.notes, "look here");
  });
});
