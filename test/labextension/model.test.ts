import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Signal } from "@lumino/signaling";
import { RunFollower, recordPath } from "../../labextension/src/model/follow";
import { LiveRuns } from "../../labextension/src/model/live";
import { isNewer, RunRegistry } from "../../labextension/src/model/registry";
import { RunStore } from "../../labextension/src/model/store";
import { MIME, parseRunRecord, type RunPayload } from "../../src/protocol/index";
import { runPayload } from "../browser/fixtures";
import { fakeContents, record } from "./fake-contents";

function payload(o: Partial<RunPayload> = {}): RunPayload {
  return { ...runPayload({ experiment: "demo", number: 1 }), ...o };
}

function fakeSession(): any {
  const owner = {};
  return {
    iopubMessage: new Signal<any, any>(owner),
    statusChanged: new Signal<any, string>(owner),
    kernelChanged: new Signal<any, any>(owner),
    kernelDisplayStatus: "idle",
  };
}

function displayMsg(p: RunPayload, update = true): any {
  return { header: { msg_type: update ? "update_display_data" : "display_data" }, content: { data: { [MIME.run]: p } } };
}

const until = async (f: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("the run registry and live runs", () => {
  it("orders payloads: a later one wins, an end is never undone by running, a written end beats an inferred died", () => {
    const a = payload({ sentAt: 100 });
    assert.ok(isNewer(a, payload({ sentAt: 101 })));
    assert.ok(!isNewer(a, payload({ sentAt: 99 })));
    const ended = payload({ sentAt: 100, status: "interrupted" });
    assert.ok(!isNewer(ended, payload({ sentAt: 200 })));
    assert.ok(isNewer(payload({ status: "died", sentAt: 300 }), payload({ status: "interrupted", sentAt: 200 })));
    assert.ok(!isNewer(payload({ status: "interrupted", sentAt: 200 }), payload({ status: "died", sentAt: 300 })));
  });

  it("routes a run's updates by run id to a card that was restored without a display id, and follows a re-run", () => {
    const registry = new RunRegistry();
    const shown: RunPayload[] = [];
    const card = new RunFollower(registry, (p) => shown.push(p));
    card.take(payload({ sentAt: 100 }));
    registry.publish(payload({ sentAt: 200 }));
    assert.deepEqual(shown.map((p) => p.sentAt), [100, 200]);
    registry.publish({ ...payload({ number: 2, sentAt: 300 }), id: "demo/2", rerunOf: "demo/1" });
    assert.equal(card.current?.id, "demo/2");
    registry.publish({ ...payload({ number: 2, sentAt: 400 }), id: "demo/2", rerunOf: "demo/1" });
    assert.equal(shown.at(-1)?.sentAt, 400);
    card.dispose();
  });

  it("settles a quiet running card from its record: an interrupted record reads interrupted", async () => {
    const registry = new RunRegistry();
    registry.reader = async (path) => (path === "nb/experiments/demo/1/run.json" ? parseRunRecord(record("demo", 1, { status: "interrupted" })) : undefined);
    const shown: RunPayload[] = [];
    const card = new RunFollower(registry, (p) => shown.push(p), async (p) => `nb/${p}`);
    assert.equal(recordPath(payload()), "experiments/demo/1/run.json");
    card.take(payload({ status: "running" }));
    await until(() => shown.at(-1)?.status === "interrupted");
    card.dispose();
  });

  it("settles the runs of a restarted kernel from run.json: interrupted on disk is interrupted on screen", async () => {
    const registry = new RunRegistry();
    const files: Record<string, string> = { "experiments/demo/1/run.json": record("demo", 1, { status: "running", endTime: undefined, heartbeat: Date.now() }) };
    const store = new RunStore(fakeContents(files), "experiments");
    const session = fakeSession();
    const live = new LiveRuns(session, { registry, store: () => store, notebookPath: () => "a.ipynb" });
    session.iopubMessage.emit(displayMsg(payload({ status: "running" }), false));
    assert.equal(live.runningCount, 1);
    session.statusChanged.emit("restarting");
    files["experiments/demo/1/run.json"] = record("demo", 1, { status: "interrupted" });
    session.statusChanged.emit("starting");
    await until(() => live.get("demo/1")?.payload.status === "interrupted");
    assert.equal(registry.latest("demo/1")?.status, "interrupted");
    // The kernel's own last update, had it arrived late, cannot put the run back to running.
    session.iopubMessage.emit(displayMsg(payload({ status: "running", sentAt: Date.now() + 1000 })));
    assert.equal(live.get("demo/1")?.payload.status, "interrupted");
    live.dispose();
  });

  it("shows died when a killed kernel left its record running", async () => {
    const registry = new RunRegistry();
    const store = new RunStore(fakeContents({ "experiments/demo/1/run.json": record("demo", 1, { status: "running", endTime: undefined, heartbeat: Date.now() }) }), "experiments");
    const session = fakeSession();
    const live = new LiveRuns(session, { registry, store: () => store, notebookPath: () => "a.ipynb" });
    session.iopubMessage.emit(displayMsg(payload({ status: "running" }), false));
    session.statusChanged.emit("autorestarting");
    await until(() => live.get("demo/1")?.payload.status === "died");
    assert.ok(registry.isDead("demo/1"));
    live.dispose();
  });

  it("finds a running run from its record after a page load, before the kernel says anything", async () => {
    const registry = new RunRegistry();
    const store = new RunStore(
      fakeContents({ "experiments/demo/1/run.json": record("demo", 1, { status: "running", endTime: undefined, heartbeat: Date.now(), notebook: "/root/a.ipynb" }) }),
      "experiments",
    );
    const live = new LiveRuns(fakeSession(), { registry, store: () => store, notebookPath: () => "a.ipynb" });
    await live.findRunning();
    assert.deepEqual(live.runs.map((r) => [r.id, r.payload.status, r.source]), [["demo/1", "running", "disk"]]);
    assert.equal(registry.latest("demo/1")?.status, "running");
    live.dispose();
  });
});
