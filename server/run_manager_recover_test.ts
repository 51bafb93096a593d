import assert from "node:assert/strict";
import { type RunRecord } from "../engine/mod.ts";
import { FakeClock } from "../testing/mod.ts";
import { type CreateRunOptions, SqliteStore } from "../store/mod.ts";
import { gated, harness, untilStatus, waitFor } from "./testdata/manager_harness.ts";

const SPEC = { a: [], b: ["a"], c: ["b"] };

/** A run as a process killed in the middle of node b left it. */
function crashed(runId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    workflow: "test-flow",
    version: "1.0.0",
    status: "running",
    input: { n: 1 },
    startedAt: "2025-01-01T00:00:00.000Z",
    trigger: "manual",
    codeHash: "hash-workflow",
    nodes: {
      a: { status: "succeeded", attempts: 1, output: "A" },
      b: { status: "running", attempts: 1 },
    },
    ...overrides,
  };
}

function queued(runId: string): RunRecord {
  return { ...crashed(runId), status: "queued", nodes: {}, startedAt: undefined };
}

Deno.test("`RunManager.recover()` resumes a crashed run without re-executing completed nodes", async () => {
  // The one process on the store (it holds the SQLite lock): the dead process's lease is stale.
  const h = await harness({ spec: SPEC, manager: { owner: "replica-1", exclusiveStore: true } });
  try {
    await h.store.createRun(crashed("r1"), { owner: "killed-process", leaseMs: 30_000 });
    assert.deepEqual(await h.manager.recover(), { resumed: 1, requeued: 0 });
    const record = await h.manager.wait("r1");
    assert.equal(record.status, "succeeded");
    assert.deepEqual(h.runner.calls.map((c) => c.node), ["b", "c"]);
    assert.equal(h.runner.calls[0]!.input, "A");
    const stored = await h.store.getRun("r1");
    assert.equal(stored?.status, "succeeded");
    assert.equal(stored?.startedAt, "2025-01-01T00:00:00.000Z");
    assert.deepEqual(stored?.nodes.a, { status: "succeeded", attempts: 1, output: "A" });
    const logs = await h.store.getLogs("r1");
    assert.match(logs[0]!.msg, /^Run resumed by "replica-1" \(1 succeeded nodes reused\)$/);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.recover()` waits for a dead replica's lease to expire, then resumes", async () => {
  const h = await harness({ spec: SPEC, manager: { owner: "replica-2", leaseMs: 30_000 } });
  try {
    await h.store.createRun(crashed("r1"), { owner: "dead-replica", leaseMs: 30_000 });
    assert.deepEqual(await h.manager.recover(), { resumed: 0, requeued: 0 });
    await h.clock.advance(29_000);
    assert.equal(h.runner.calls.length, 0);
    await h.clock.advance(1_000);
    assert.equal((await h.manager.wait("r1")).status, "succeeded");
    assert.deepEqual(h.runner.calls.map((c) => c.node), ["b", "c"]);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.recover()` requeues queued runs in their original order", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: { maxRuns: 1, queueLimit: 1, strategy: "append", startDelayMs: 0 },
  });
  try {
    const unowned: CreateRunOptions = {};
    for (const id of ["q1", "q2", "q3"]) await h.store.createRun(queued(id), unowned);
    // More than queueLimit: recovered runs were accepted before and always rejoin the queue.
    assert.deepEqual(await h.manager.recover(), { resumed: 0, requeued: 3 });
    for (const [i, id] of ["q1", "q2", "q3"].entries()) {
      await waitFor(() => gates.started.length === i + 1, `${id} to start`);
      assert.equal(gates.started[i], `${id}:a`);
      await untilStatus(h.store, id, "running");
      gates.open(id, "a");
      assert.equal((await h.manager.wait(id)).status, "succeeded");
    }
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.recover()` logs a warning when the workflow code changed", async () => {
  const h = await harness({ spec: SPEC });
  try {
    await h.store.createRun(crashed("r1", { codeHash: "hash-old" }));
    await h.manager.recover();
    const record = await h.manager.wait("r1");
    assert.equal(record.status, "succeeded");
    assert.equal(record.codeHash, "hash-old");
    const warning = (await h.store.getLogs("r1")).find((l) => l.level === "warn");
    assert.match(
      warning?.msg ?? "",
      /^Run resumed with different workflow code: started with hash-old, resumed with hash-workflow$/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.recover()` on two replicas sharing a store resumes each run once", async () => {
  const one = await harness({ spec: SPEC, manager: { owner: "one" } });
  const two = await harness({
    spec: SPEC,
    store: one.store,
    clock: one.clock,
    manager: { owner: "two" },
  });
  try {
    for (const id of ["r1", "r2", "r3"]) await one.store.createRun(crashed(id));
    const counts = await Promise.all([one.manager.recover(), two.manager.recover()]);
    assert.equal(counts[0].resumed + counts[1].resumed, 3);
    for (const id of ["r1", "r2", "r3"]) await untilStatus(one.store, id, "succeeded");
    const calls = [...one.runner.calls, ...two.runner.calls].map((c) => c.node).sort();
    assert.deepEqual(calls, ["b", "b", "b", "c", "c", "c"]);
  } finally {
    await two.close();
    await one.close();
  }
});

Deno.test("`RunManager.cancel()` of a run executed by another replica stops it there", async () => {
  const gates = gated(["a"]);
  const one = await harness({ spec: { a: [] }, fns: gates.fns, manager: { owner: "one" } });
  const two = await harness({ store: one.store, clock: one.clock, manager: { owner: "two" } });
  try {
    const { runId } = await one.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "the run to start");
    const marked = await two.manager.cancel(runId);
    assert.equal(marked?.status, "cancelled");
    // The owner notices at its next lease renewal (every leaseMs / 3).
    await one.clock.advance(10_000);
    const record = await one.manager.wait(runId);
    assert.equal(record.status, "cancelled");
    assert.equal(record.nodes.a?.status, "cancelled");
    assert.equal(one.manager.stats().running, 0);
  } finally {
    await two.close();
    await one.close();
  }
});

Deno.test("`RunManager` renews the leases of its runs while they execute", async () => {
  const gates = gated(["a"]);
  const one = await harness({ spec: { a: [] }, fns: gates.fns, manager: { owner: "one" } });
  const two = await harness({ store: one.store, clock: one.clock, manager: { owner: "two" } });
  try {
    const { runId } = await one.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "the run to start");
    await one.clock.advance(120_000);
    // Still leased by "one" although 4 lease lengths passed: the other replica cannot take it.
    assert.equal(await one.store.claimRun(runId, "two", 30_000), false);
    assert.deepEqual(await two.manager.recover(), { resumed: 0, requeued: 0 });
    gates.open(runId, "a");
    assert.equal((await one.manager.wait(runId)).status, "succeeded");
  } finally {
    await two.close();
    await one.close();
  }
});

Deno.test("`RunManager` stops writing a run another replica took over after its lease lapsed", async () => {
  const gates = gated(["a"]);
  const storeClock = new FakeClock();
  const store = await SqliteStore.open(":memory:", { now: () => storeClock.now() });
  // Replica "one" stalls: its own clock does not move, so it does not renew its lease.
  const one = await harness({
    spec: { a: [] },
    fns: gates.fns,
    store,
    clock: new FakeClock(),
    manager: { owner: "one" },
  });
  const two = await harness({
    spec: { a: [] },
    store,
    clock: storeClock,
    manager: { owner: "two" },
  });
  try {
    const { runId } = await one.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "the run to start on one");
    await storeClock.advance(30_000);
    assert.deepEqual(await two.manager.recover(), { resumed: 1, requeued: 0 });
    assert.equal((await two.manager.wait(runId)).status, "succeeded");
    // "one" wakes up: its renewal fails, it detaches without overwriting the finished run.
    const waited = one.manager.wait(runId);
    await one.clock.advance(10_000);
    assert.equal((await waited).status, "succeeded");
    const stored = await store.getRun(runId);
    assert.equal(stored?.status, "succeeded");
    assert.equal(stored?.nodes.a?.status, "succeeded");
    assert.equal(one.manager.stats().running, 0);
    assert.match(String((one.errors[0] as Error)?.message), /another replica took it over/);
  } finally {
    await two.close();
    await one.close();
    await store.close();
  }
});

Deno.test("`RunManager` leaves a run whose store write failed unfinished and resumes it later", async () => {
  const clock = new FakeClock();
  const base = await SqliteStore.open(":memory:", { now: () => clock.now() });
  let failures = 0;
  const flaky = new Proxy(base, {
    get(target, property) {
      if (property === "updateNode") {
        return (runId: string, nodeId: string, node: RunRecord["nodes"][string]) => {
          if (failures === 0 && nodeId === "b" && node.status === "succeeded") {
            failures++;
            return Promise.reject(new Error("disk full"));
          }
          return target.updateNode(runId, nodeId, node);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const h = await harness({ spec: SPEC, store: flaky, clock });
  try {
    await h.manager.recover();
    const { runId } = await h.manager.submit(null);
    await assert.rejects(h.manager.wait(runId), /the run store failed: disk full/);
    const stalled = await base.getRun(runId);
    assert.equal(stalled?.status, "running");
    assert.equal(stalled?.nodes.a?.status, "succeeded");
    assert.equal(stalled?.nodes.b?.status, "running");
    // The next recovery scan (every leaseMs) resumes it from node b.
    await clock.advance(30_000);
    await untilStatus(base, runId, "succeeded");
    const calls = h.runner.calls.map((c) => c.node);
    // a is not executed again; b (whose success was never stored) and c are.
    assert.equal(calls.filter((n) => n === "a").length, 1);
    assert.equal(calls.filter((n) => n === "b").length, 2);
    assert.deepEqual(calls.slice(-2), ["b", "c"]);
  } finally {
    await h.close();
    await base.close();
  }
});

Deno.test("`RunManager.adoptedRuns()` lists the resumed runs of a trigger until they end", async () => {
  const gates = gated(["b"]);
  const h = await harness({
    spec: SPEC,
    fns: gates.fns,
    manager: { owner: "replica-1", exclusiveStore: true },
  });
  try {
    await h.store.createRun(crashed("q1", { trigger: "queue" }), { owner: "dead" });
    await h.store.createRun(crashed("m1"), { owner: "dead" });
    assert.deepEqual(await h.manager.recover(), { resumed: 2, requeued: 0 });
    assert.deepEqual(h.manager.adoptedRuns("queue"), ["q1"]);
    assert.deepEqual(h.manager.adoptedRuns("manual"), ["m1"]);
    const { runId } = await h.manager.submit({ n: 2 }, { trigger: "queue" });
    assert.deepEqual(h.manager.adoptedRuns("queue"), ["q1"], "a submitted run is not adopted");
    for (const id of ["q1", "m1", runId]) {
      await waitFor(() => gates.started.includes(`${id}:b`), `${id} at b`);
      gates.open(id, "b");
      assert.equal((await h.manager.wait(id)).status, "succeeded");
    }
    assert.deepEqual(h.manager.adoptedRuns("queue"), []);
  } finally {
    await h.close();
  }
});
