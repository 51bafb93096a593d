import assert from "node:assert/strict";
import { SqliteStore } from "../store/mod.ts";
import { EventRejectedError } from "./_durable_runs.ts";
import { gated, type Harness, harness, untilStatus, waitFor } from "./testdata/manager_harness.ts";
import { FakeClock } from "../testing/mod.ts";

const SLEEP = { kind: "sleep" as const, sleepMs: 60_000 };
const APPROVAL = { kind: "wait" as const, wait: { event: "approval", timeoutMs: 3_600_000 } };

/** Runs `body` once a submitted run (approve → post) waits at its approval node. */
async function withWaitingRun(body: (h: Harness, runId: string) => Promise<void>): Promise<void> {
  const h = await harness({
    spec: { approve: [], post: ["approve"] },
    dag: { nodes: { approve: APPROVAL } },
  });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit({});
    await untilStatus(h.store, runId, "waiting");
    await body(h, runId);
  } finally {
    await h.close();
  }
}

Deno.test("`RunManager` parks a sleeping run (no slot held) and its stored timer resumes it on time", async () => {
  const gates = gated(["other"]);
  const h = await harness({
    spec: { a: [], nap: ["a"], b: ["nap"] },
    dag: { nodes: { nap: SLEEP } },
    fns: { ...gates.fns, a: () => "A", b: (_ctx, input) => `after ${input}` },
    concurrency: { maxRuns: 1, queueLimit: 10, strategy: "append", startDelayMs: 0 },
  });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit({});
    const parked = await untilStatus(h.store, runId, "waiting");
    assert.equal(parked.nodes.nap?.status, "waiting");
    assert.equal(
      parked.nodes.nap?.waitingFor?.dueAt,
      new Date(Date.parse(parked.nodes.nap!.startedAt!) + 60_000).toISOString(),
    );
    await waitFor(() => h.manager.stats().running === 0, "the parked run to leave its slot");
    assert.deepEqual(h.manager.stats(), { queued: 0, running: 0 });
    // maxRuns is 1: a second run starts at once although the first is waiting.
    const second = await h.manager.submit({});
    const done = await untilStatus(h.store, second.runId, "waiting");
    assert.equal(done.nodes.a?.status, "succeeded");

    await h.clock.advance(59_000);
    assert.equal((await h.store.getRun(runId))?.status, "waiting");
    await h.clock.advance(2_000);
    const record = await untilStatus(h.store, runId, "succeeded");
    assert.equal(record.result, "after A");
    assert.equal(record.nodes.nap?.status, "succeeded");
    assert.deepEqual(h.runner.calls.filter((c) => c.node === "a").length, 2, "a ran once per run");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.signal()` resumes a waiting run with the payload; unknown runs and other events are refused", async () => {
  const h = await harness({
    spec: { a: [], approve: ["a"], post: ["approve"] },
    dag: { nodes: { approve: APPROVAL } },
    fns: { a: () => "A", post: (_ctx, input) => ({ posted: input }) },
  });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit({});
    await untilStatus(h.store, runId, "waiting");
    await assert.rejects(
      h.manager.signal("nope", "approval", {}),
      (e) => e instanceof EventRejectedError && e.reason === "unknown-run",
    );
    await assert.rejects(
      h.manager.signal(runId, "other", {}),
      (e) =>
        e instanceof EventRejectedError && e.reason === "not-waiting" &&
        e.message.endsWith('it waits for "approval"'),
    );
    await h.manager.signal(runId, "approval", { approved: true, comment: "ok" });
    const record = await untilStatus(h.store, runId, "succeeded");
    assert.deepEqual(record.result, { posted: { approved: true, comment: "ok" } });
    await assert.rejects(
      h.manager.signal(runId, "approval", {}),
      (e) => e instanceof EventRejectedError && /the run is succeeded/.test(e.message),
    );
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` fails a wait node at its timeout", async () => {
  await withWaitingRun(async (h, runId) => {
    await h.clock.advance(3_600_000);
    const record = await untilStatus(h.store, runId, "failed");
    assert.match(record.nodes.approve!.error!.message, /no "approval" event arrived within 1h/);
    assert.equal(record.nodes.post?.status, "skipped");
  });
});

Deno.test("two `RunManager` replicas fire a stored timer exactly once", async () => {
  const clock = new FakeClock();
  const store = await SqliteStore.open(":memory:", { now: () => clock.now() });
  const options = {
    spec: { nap: [], b: ["nap"] },
    dag: { nodes: { nap: SLEEP } },
    fns: { b: () => "B" },
    store,
    clock,
  };
  const one = await harness({ ...options, manager: { owner: "one" } });
  const two = await harness({ ...options, manager: { owner: "two" } });
  try {
    await one.manager.recover();
    await two.manager.recover();
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? one : two).manager.submit({ i })),
    );
    for (const { runId } of runs) await untilStatus(store, runId, "waiting");
    await clock.advance(61_000);
    for (const { runId } of runs) {
      const record = await untilStatus(store, runId, "succeeded");
      assert.equal(record.result, "B");
      const wakes = (await store.getLogs(runId)).filter((l) => l.msg.startsWith("Run woken"));
      assert.equal(wakes.length, 1, JSON.stringify(wakes));
    }
    const bRuns = one.runner.calls.length + two.runner.calls.length;
    assert.equal(bRuns, 6, "each run's b ran once");
  } finally {
    await one.close();
    await two.close();
    await store.close();
  }
});

Deno.test("`RunManager.recover()` resumes a crashed map node re-running only its unstored elements", async () => {
  const clock = new FakeClock();
  const store = await SqliteStore.open(":memory:", { now: () => clock.now() });
  // What a process killed during the map left: 3 of 5 elements stored, its lease expired.
  await store.createRun({
    runId: "crashed",
    workflow: "test-flow",
    version: "1.0.0",
    status: "running",
    input: {},
    startedAt: new Date(clock.now()).toISOString(),
    nodes: {
      list: { status: "succeeded", attempts: 1, output: [0, 1, 2, 3, 4] },
      each: {
        status: "running",
        attempts: 1,
        items: { total: 5, succeeded: 3, failed: 0, running: 2 },
      },
    },
  }, { owner: "dead", leaseMs: 1_000 });
  for (const index of [0, 2, 4]) {
    await store.putMapItem("crashed", "each", {
      index,
      status: "succeeded",
      attempts: 1,
      output: `before ${index}`,
    });
  }
  await store.putMapItem("crashed", "each", { index: 1, status: "running", attempts: 1 });
  await clock.advance(2_000);
  const seen: unknown[] = [];
  const h = await harness({
    spec: { list: [], each: ["list"] },
    dag: { nodes: { each: { map: { over: ".", concurrency: 2 } } } },
    fns: { each: (_ctx, input) => (seen.push(input), `after ${input}`) },
    store,
    clock,
  });
  try {
    assert.equal(h.workflow.name, "test-flow");
    assert.deepEqual(await h.manager.recover(), { resumed: 1, requeued: 0 });
    const record = await untilStatus(store, "crashed", "succeeded");
    assert.deepEqual(record.result, ["before 0", "after 1", "before 2", "after 3", "before 4"]);
    assert.deepEqual(seen.sort(), [1, 3]);
    assert.deepEqual(record.nodes.each?.items, { total: 5, succeeded: 5, failed: 0, running: 0 });
    const items = await h.manager.listMapItems("crashed", "each", { limit: 2, cursor: "1" });
    assert.deepEqual(items.items.map((i) => [i.index, i.status]), [[1, "succeeded"], [
      2,
      "succeeded",
    ]]);
  } finally {
    await h.close();
    await store.close();
  }
});

Deno.test("`RunManager.cancel()` ends a waiting run and its waiting node; a later event is refused", async () => {
  await withWaitingRun(async (h, runId) => {
    const cancelled = await h.manager.cancel(runId);
    assert.equal(cancelled?.status, "cancelled");
    assert.equal(cancelled?.nodes.approve?.status, "cancelled");
    await assert.rejects(
      h.manager.signal(runId, "approval", {}),
      (e) => e instanceof EventRejectedError && /the run is cancelled/.test(e.message),
    );
    // Its timer fires later: nothing resumes a cancelled run.
    await h.clock.advance(3_600_000);
    assert.equal((await h.store.getRun(runId))?.status, "cancelled");
  });
});
