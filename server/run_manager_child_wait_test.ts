import assert from "node:assert/strict";
import type { CompiledNode, CompiledWorkflow } from "../engine/mod.ts";
import { deliverEvent, EventRejectedError } from "./_durable_runs.ts";
import {
  deferred,
  gated,
  type Harness,
  harness,
  type HarnessOptions,
  testWorkflow,
  untilStatus,
  waitFor,
} from "./testdata/manager_harness.ts";
import { FakeClock, type TestFn } from "../testing/mod.ts";
import { SqliteStore } from "../store/mod.ts";

const SLEEP = { kind: "sleep" as const, sleepMs: 60_000 };
const APPROVAL = { kind: "wait" as const, wait: { event: "approval" } };
const CHILD: Partial<CompiledNode> = { kind: "workflow", workflow: "/wf/child" };

/** A parent `a → sub → post` whose `sub` runs the child workflow `child`. */
function parentWith(child: HarnessOptions, sub: Partial<CompiledNode> = CHILD): CompiledWorkflow {
  const childFlow = testWorkflow(child);
  childFlow.name = "child-flow";
  const parent = testWorkflow({
    spec: { a: [], sub: ["a"], post: ["sub"] },
    dag: { nodes: { sub } },
  });
  parent.subWorkflows = { "/wf/child": childFlow };
  return parent;
}

const fns: Record<string, TestFn> = {
  a: () => ["x", "y"],
  b: (_ctx, input) => ({ child: input }),
  post: (_ctx, input) => ({ posted: input }),
};

/** An in-memory store on `clock` whose method `name` goes through `wrap`. */
async function interceptedStore<K extends "releaseLease" | "updateRun">(
  clock: FakeClock,
  name: K,
  wrap: (store: SqliteStore) => SqliteStore[K],
): Promise<{ store: SqliteStore; [Symbol.asyncDispose](): Promise<void> }> {
  const sqlite = await SqliteStore.open(":memory:", { now: () => clock.now() });
  const replaced = wrap(sqlite);
  const store = new Proxy(sqlite, {
    get(target, key) {
      if (key === name) return replaced;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store, [Symbol.asyncDispose]: () => sqlite.close() };
}

/** Runs `body` once the parent and its child (waiting for "approval") both parked. */
async function withParkedChild(
  body: (h: Harness, runId: string, childId: string) => Promise<void>,
  options: HarnessOptions = {},
): Promise<void> {
  const workflow = parentWith({
    spec: { approve: [], b: ["approve"] },
    dag: { nodes: { approve: APPROVAL } },
  });
  const h = await harness({ fns, manager: { workflow }, ...options });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit({});
    const childId = `${runId}~sub`;
    await untilStatus(h.store, childId, "waiting");
    await untilStatus(h.store, runId, "waiting");
    await body(h, runId, childId);
  } finally {
    await h.close();
  }
}

Deno.test("a child run that sleeps parks without a slot, its parent node waits on it, and the stored timer resumes both on time", async () => {
  const workflow = parentWith({ spec: { nap: [], b: ["nap"] }, dag: { nodes: { nap: SLEEP } } });
  const h = await harness({
    fns,
    concurrency: { maxRuns: 1, queueLimit: 10, strategy: "append", startDelayMs: 0 },
    manager: { workflow },
  });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit({});
    const childId = `${runId}~sub`;
    const parked = await untilStatus(h.store, runId, "waiting");
    assert.equal(parked.nodes.sub?.status, "waiting");
    assert.deepEqual(parked.nodes.sub?.waitingFor, { childRunId: childId });
    assert.equal(parked.nodes.sub?.childRunId, childId);
    const child = await untilStatus(h.store, childId, "waiting");
    assert.equal(child.parentRunId, runId);
    assert.equal(child.nodes.nap?.status, "waiting");
    await waitFor(() => h.manager.stats().running === 0, "the parked parent to leave its slot");
    // maxRuns is 1: another run starts although the first one's child sleeps.
    const second = await h.manager.submit({});
    await untilStatus(h.store, second.runId, "waiting");

    await h.clock.advance(59_000);
    assert.equal((await h.store.getRun(childId))?.status, "waiting");
    assert.equal((await h.store.getRun(runId))?.status, "waiting");
    await h.clock.advance(2_000);
    const done = await untilStatus(h.store, runId, "succeeded");
    assert.deepEqual(done.result, { posted: { child: ["x", "y"] } });
    const finished = await h.store.getRun(childId);
    assert.equal(finished?.status, "succeeded");
    assert.equal(finished?.nodes.nap?.status, "succeeded");
    assert.equal(h.runner.calls.filter((c) => c.node === "a").length, 2, "a ran once per run");
  } finally {
    await h.close();
  }
});

Deno.test("an event sent to a waiting child run resumes the child and then its parent; the parent itself takes no event", async () => {
  await withParkedChild(async (h, runId, childId) => {
    await assert.rejects(
      h.manager.signal(runId, "approval", {}),
      (e) => e instanceof EventRejectedError && e.reason === "not-waiting",
    );
    await h.manager.signal(childId, "approval", { approved: true });
    const done = await untilStatus(h.store, runId, "succeeded");
    assert.deepEqual(done.result, { posted: { child: { approved: true } } });
    assert.equal(done.nodes.sub?.status, "succeeded");
    assert.equal(done.nodes.sub?.waitingFor, undefined);
  });
});

Deno.test("an event written to the store by another process (`runs signal` without --url) wakes the parked run at the next poll", async () => {
  await withParkedChild(async (h, runId, childId) => {
    // What the CLI does on a local store: resolve the wait, queue the run (and its parents).
    await deliverEvent(h.store, childId, "approval", "ok");
    assert.equal((await h.store.getRun(runId))?.status, "queued");
    await h.clock.advance(1_000);
    const done = await untilStatus(h.store, runId, "succeeded");
    assert.deepEqual(done.result, { posted: { child: "ok" } });
  });
});

Deno.test("a map over a sub-workflow parks while any element's child waits and resumes only those", async () => {
  const workflow = parentWith(
    { spec: { approve: [], b: ["approve"] }, dag: { nodes: { approve: APPROVAL } } },
    { ...CHILD, map: { over: ".", concurrency: 2 } },
  );
  const h = await harness({ fns, manager: { workflow } });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit({});
    const parked = await untilStatus(h.store, runId, "waiting");
    assert.deepEqual(parked.nodes.sub?.waitingFor, { children: 2 });
    const items = await h.store.listMapItems(runId, "sub");
    assert.deepEqual(items.items.map((i) => [i.status, i.childRunId]), [
      ["waiting", `${runId}~sub~0`],
      ["waiting", `${runId}~sub~1`],
    ]);
    await h.manager.signal(`${runId}~sub~1`, "approval", "second");
    await untilStatus(h.store, `${runId}~sub~1`, "succeeded");
    const again = await untilStatus(h.store, runId, "waiting");
    assert.deepEqual(again.nodes.sub?.waitingFor, { children: 1 });
    await h.manager.signal(`${runId}~sub~0`, "approval", "first");
    const done = await untilStatus(h.store, runId, "succeeded");
    assert.deepEqual(done.result, { posted: [{ child: "first" }, { child: "second" }] });
    const bInputs = h.runner.calls.filter((c) => c.node === "b").map((c) => c.input).sort();
    assert.deepEqual(bInputs, ["first", "second"], "each child's b ran once");
  } finally {
    await h.close();
  }
});

Deno.test("cancelling a parent parked on its child cancels the child; a later event is refused", async () => {
  await withParkedChild(async (h, runId, childId) => {
    const cancelled = await h.manager.cancel(runId);
    assert.equal(cancelled?.status, "cancelled");
    assert.equal(cancelled?.nodes.sub?.status, "cancelled");
    const child = await h.store.getRun(childId);
    assert.equal(child?.status, "cancelled");
    assert.equal(child?.nodes.approve?.status, "cancelled");
    await assert.rejects(
      h.manager.signal(childId, "approval", {}),
      (e) => e instanceof EventRejectedError && /the run is cancelled/.test(e.message),
    );
  });
});

Deno.test("a child's event that arrives while its parent still runs another branch resumes the parent once it parks", async () => {
  const gates = gated(["slow"]);
  const childFlow = testWorkflow({
    spec: { approve: [], b: ["approve"] },
    dag: { nodes: { approve: APPROVAL } },
  });
  childFlow.name = "child-flow";
  const workflow = testWorkflow({
    spec: { a: [], sub: ["a"], slow: ["a"], post: ["sub", "slow"] },
    dag: { nodes: { sub: CHILD } },
  });
  workflow.subWorkflows = { "/wf/child": childFlow };
  const h = await harness({ fns: { ...fns, ...gates.fns }, manager: { workflow } });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit({});
    const childId = `${runId}~sub`;
    await untilStatus(h.store, childId, "waiting");
    await waitFor(
      async () => (await h.store.getRun(runId))?.nodes.sub?.status === "waiting",
      "sub",
    );
    assert.equal((await h.store.getRun(runId))?.status, "running", "slow still runs");
    await h.manager.signal(childId, "approval", "early");
    assert.equal((await h.store.getRun(childId))?.status, "queued");
    gates.open(runId, "slow", "S");
    const done = await untilStatus(h.store, runId, "succeeded");
    assert.deepEqual(done.result, { posted: { sub: { child: "early" }, slow: "S" } });
  } finally {
    await h.close();
  }
});

Deno.test("cancelling a parent whose child was queued again by a store-side signal cancels that child too", async () => {
  // The parent's hand-over ends with the release of its lease: the event comes after it.
  const clock = new FakeClock();
  const released = new Set<string>();
  await using intercepted = await interceptedStore(
    clock,
    "releaseLease",
    (target) => async (runId, lease) => {
      const done = await target.releaseLease(runId, lease);
      released.add(runId);
      return done;
    },
  );
  await withParkedChild(async (h, runId, childId) => {
    await waitFor(() => released.has(runId), "the parked parent's lease release");
    await deliverEvent(h.store, childId, "approval", "late");
    assert.equal((await h.store.getRun(childId))?.status, "queued");
    // No timer poll has run (the fake clock stands still): the parent is queued, not resumed.
    assert.equal((await h.manager.cancel(runId))?.status, "cancelled");
    assert.equal((await h.store.getRun(childId))?.status, "cancelled");
    await h.clock.advance(2_000);
    assert.equal((await h.store.getRun(runId))?.status, "cancelled");
    assert.equal(h.runner.calls.filter((c) => c.node === "b").length, 0);
  }, { store: intercepted.store, clock });
});

Deno.test("`cancel()` of a parent whose child's event arrives while the parent is parking cancels both", async () => {
  const workflow = parentWith({
    spec: { approve: [], b: ["approve"] },
    dag: { nodes: { approve: APPROVAL } },
  });
  // The parent's execution is held once its `waiting` status is stored, before it hands over.
  const clock = new FakeClock();
  let parentId = "";
  const handingOver = deferred<void>();
  const goOn = deferred<void>();
  await using intercepted = await interceptedStore(
    clock,
    "updateRun",
    (target) => async (runId, update, fence) => {
      const done = await target.updateRun(runId, update, fence);
      if (runId === parentId && update.status === "waiting") {
        handingOver.resolve();
        await goOn.promise;
      }
      return done;
    },
  );
  const store = intercepted.store;
  const h = await harness({ fns, manager: { workflow }, store, clock });
  try {
    await h.manager.recover();
    parentId = (await h.manager.submit({})).runId;
    const childId = `${parentId}~sub`;
    await handingOver.promise;
    await deliverEvent(h.store, childId, "approval", "late");
    const cancelling = h.manager.cancel(parentId);
    goOn.resolve();
    assert.equal((await cancelling)?.status, "cancelled");
    await waitFor(() => h.manager.stats().running === 0, "nothing running");
    assert.equal((await h.store.getRun(parentId))?.status, "cancelled");
    assert.equal((await h.store.getRun(childId))?.status, "cancelled");
    assert.equal(h.runner.calls.filter((c) => c.node === "b").length, 0, "the child never resumed");
  } finally {
    await h.close();
  }
});
