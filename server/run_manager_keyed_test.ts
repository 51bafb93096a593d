import assert from "node:assert/strict";
import type { ConcurrencySettings } from "../engine/mod.ts";
import { QueueFullError } from "./errors.ts";
import { FakeClock } from "../testing/mod.ts";
import { type RunStore, SqliteStore } from "../store/mod.ts";
import { deferred, gated, harness, untilStatus, waitFor } from "./testdata/manager_harness.ts";

function keyed(settings: Partial<ConcurrencySettings>): ConcurrencySettings {
  return {
    maxRuns: 1,
    queueLimit: 10,
    strategy: "append",
    startDelayMs: 0,
    key: "/tenant",
    ...settings,
  };
}

/** Run ids of the starts of node "a", in order. */
function starts(started: string[]): string[] {
  return started.map((s) => s.split(":")[0]!);
}

Deno.test("`RunManager` with concurrency.key: maxRuns and queueLimit apply per key value", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ maxRuns: 1, queueLimit: 1 }),
  });
  try {
    const a1 = (await h.manager.submit({ tenant: "acme" })).runId;
    const b1 = (await h.manager.submit({ tenant: "beta" })).runId;
    const a2 = (await h.manager.submit({ tenant: "acme" })).runId;
    await waitFor(() => gates.started.length === 2, "one run of each key to start");
    await h.clock.advance(60_000);
    assert.deepEqual(starts(gates.started).sort(), [a1, b1].sort());
    assert.equal((await h.store.getRun(a2))?.status, "queued");
    await assert.rejects(
      () => h.manager.submit({ tenant: "acme" }),
      (error: unknown) =>
        error instanceof QueueFullError &&
        error.message ===
          'Cannot queue a run of workflow "test-flow": 1 runs of key /tenant = "acme" are waiting (queueLimit 1); retry later',
    );
    const b2 = (await h.manager.submit({ tenant: "beta" })).runId;
    // A run without the key's value falls under the empty key, a key of its own.
    const none = (await h.manager.submit({})).runId;
    await waitFor(() => gates.started.length === 3, "the run without a key value to start");
    assert.equal(starts(gates.started)[2], none);
    assert.deepEqual(h.manager.stats(), { queued: 2, running: 3 });
    gates.open(a1, "a");
    await waitFor(() => gates.started.length === 4, "acme's second run to start");
    assert.equal(starts(gates.started)[3], a2);
    assert.equal((await h.store.getRun(b2))?.status, "queued");
    for (const id of [b1, a2, b2, none]) gates.open(id, "a");
    for (const id of [a1, b1, a2, b2, none]) {
      assert.equal((await h.manager.wait(id)).status, "succeeded");
    }
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` maxRunsTotal caps the runs of all keys together", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ maxRuns: 2, maxRunsTotal: 3 }),
  });
  try {
    const ids: string[] = [];
    for (const tenant of ["a", "a", "b", "c", "a"]) {
      ids.push((await h.manager.submit({ tenant })).runId);
    }
    await waitFor(() => gates.started.length === 3, "three runs to start");
    await h.clock.advance(60_000);
    assert.equal(gates.started.length, 3);
    assert.deepEqual(h.manager.stats(), { queued: 2, running: 3 });
    assert.equal((await h.store.getRun(ids[3]!))?.status, "queued");
    gates.open(ids[0]!, "a");
    // c has waited since before a's third run arrived: it gets the slot, not a.
    await waitFor(() => gates.started.length === 4, "c to start");
    assert.equal(starts(gates.started)[3], ids[3]);
    for (const id of ids) gates.open(id, "a");
    for (const id of ids) assert.equal((await h.manager.wait(id)).status, "succeeded");
    assert.deepEqual(starts(gates.started).slice(3), [ids[3], ids[4]]);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` strategy replace with a key replaces only the same key's waiting run", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ strategy: "replace", queueLimit: 1 }),
  });
  try {
    const a1 = (await h.manager.submit({ tenant: "a" })).runId;
    const b1 = (await h.manager.submit({ tenant: "b" })).runId;
    await waitFor(() => gates.started.length === 2, "a1 and b1 to start");
    const a2 = (await h.manager.submit({ tenant: "a" })).runId;
    const b2 = (await h.manager.submit({ tenant: "b" })).runId;
    const a3 = (await h.manager.submit({ tenant: "a" })).runId;
    assert.equal((await h.manager.wait(a2)).status, "cancelled");
    const logs = await h.store.getLogs(a2);
    assert.match(logs[0]!.msg, new RegExp(`replaced by run "${a3}"`));
    assert.equal((await h.store.getRun(b2))?.status, "queued");
    assert.equal((await h.store.getRun(a3))?.status, "queued");
    gates.open(a1, "a");
    gates.open(b1, "a");
    await waitFor(() => gates.started.length === 4, "a3 and b2 to start");
    assert.deepEqual(starts(gates.started).slice(2).sort(), [a3, b2].sort());
    gates.open(a3, "a");
    gates.open(b2, "a");
    for (const id of [a1, b1, a3, b2]) {
      assert.equal((await h.manager.wait(id)).status, "succeeded");
    }
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` startDelay with a key: each key debounces on its own", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ strategy: "replace", queueLimit: 1, startDelayMs: 5_000 }),
  });
  try {
    // t=0: a; t=2s: b; t=3s: a again (replaces the first a, ready at t=8s).
    const a1 = (await h.manager.submit({ tenant: "a" })).runId;
    await h.clock.advance(2_000);
    const b1 = (await h.manager.submit({ tenant: "b" })).runId;
    await h.clock.advance(1_000);
    const a2 = (await h.manager.submit({ tenant: "a" })).runId;
    assert.equal((await h.manager.wait(a1)).status, "cancelled");
    await h.clock.advance(3_999); // t=6.999s
    assert.equal(gates.started.length, 0);
    await h.clock.advance(1); // t=7s: b is ready
    await waitFor(() => gates.started.length === 1, "b to start at t=7s");
    assert.deepEqual(starts(gates.started), [b1]);
    await h.clock.advance(999); // t=7.999s
    assert.equal(gates.started.length, 1);
    assert.equal((await h.store.getRun(a2))?.status, "queued");
    await h.clock.advance(1); // t=8s: a's last run is ready
    await waitFor(() => gates.started.length === 2, "a's last run to start at t=8s");
    assert.deepEqual(starts(gates.started), [b1, a2]);
    await untilStatus(h.store, a2, "running");
    gates.open(b1, "a");
    gates.open(a2, "a");
    for (const id of [b1, a2]) assert.equal((await h.manager.wait(id)).status, "succeeded");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` under load: one busy key cannot starve the others", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ maxRuns: 2, maxRunsTotal: 2, queueLimit: 1_000 }),
  });
  const tenantOf = new Map<string, string>();
  const submit = async (tenant: string) => {
    const { runId } = await h.manager.submit({ tenant });
    tenantOf.set(runId, tenant);
    return runId;
  };
  try {
    for (let i = 0; i < 40; i++) await submit("busy");
    const quiet = ["k1", "k2", "k3", "k4"];
    for (const tenant of quiet) for (let i = 0; i < 3; i++) await submit(tenant);
    await waitFor(() => gates.started.length === 2, "two busy runs to start");
    // Finish the oldest running run, one at a time; the busy tenant keeps submitting.
    for (let done = 0; done < 20; done++) {
      const oldest = starts(gates.started)[done]!;
      gates.open(oldest, "a");
      await h.manager.wait(oldest);
      await submit("busy");
      await waitFor(() => gates.started.length === done + 3, `start #${done + 3}`);
    }
    const order = starts(gates.started).map((id) => tenantOf.get(id)!);
    // After the first two busy runs, each turn of five starts serves every waiting key once.
    for (let turn = 0; turn < 3; turn++) {
      const window = order.slice(2 + turn * 5, 2 + (turn + 1) * 5);
      assert.deepEqual([...window].sort(), ["busy", ...quiet], `turn ${turn}: ${window}`);
    }
    for (const tenant of quiet) {
      assert.equal(order.filter((t) => t === tenant).length, 3, `${tenant} ran all its runs`);
    }
    assert.ok(h.manager.stats().queued > 20, "the busy tenant still has a backlog");
  } finally {
    for (const id of starts(gates.started)) gates.open(id, "a");
    await h.close();
  }
});

Deno.test("`RunManager.recover()` counts resumed runs and requeues waiting ones under their keys", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ maxRuns: 1 }),
    // The one process on the store (it holds the SQLite lock): a dead process's leases are stale.
    manager: { owner: "replica-1", exclusiveStore: true },
  });
  const run = (runId: string, status: "running" | "queued", tenant: string) => ({
    runId,
    workflow: "test-flow",
    version: "1.0.0",
    status,
    input: { tenant },
    trigger: "manual",
    nodes: {},
    ...(status === "running" ? { startedAt: "2025-01-01T00:00:00.000Z" } : {}),
  });
  try {
    const lease = { owner: "dead-process", leaseMs: 30_000 };
    // A process died with acme's r1 running and r2, r3 (acme, beta) waiting.
    await h.store.createRun(run("r1", "running", "acme"), lease);
    await h.store.createRun(run("r2", "queued", "acme"), lease);
    await h.store.createRun(run("r3", "queued", "beta"), lease);
    assert.deepEqual(await h.manager.recover(), { resumed: 1, requeued: 2 });
    await waitFor(() => gates.started.length === 2, "r1 and r3 to start");
    assert.deepEqual(starts(gates.started).sort(), ["r1", "r3"]);
    assert.equal((await h.store.getRun("r2"))?.status, "queued", "acme's slot is r1's");
    gates.open("r1", "a");
    await waitFor(() => gates.started.length === 3, "r2 to start after r1");
    gates.open("r2", "a");
    gates.open("r3", "a");
    for (const id of ["r1", "r2", "r3"]) {
      assert.equal((await h.manager.wait(id)).status, "succeeded");
    }
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` QueueFullError shows at most 100 characters of a key value", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ maxRuns: 1, queueLimit: 0 }),
  });
  try {
    const long = "x".repeat(5_000);
    const { runId } = await h.manager.submit({ tenant: long });
    await assert.rejects(
      () => h.manager.submit({ tenant: long }),
      (error: unknown) =>
        error instanceof QueueFullError &&
        error.message.includes(`"${"x".repeat(100)}…"`) && error.message.length < 300,
    );
    await waitFor(() => gates.started.length === 1, "the first run to start");
    gates.open(runId, "a");
    await h.manager.wait(runId);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.submit()` with replace queues when the run to replace started meanwhile", async () => {
  const clock = new FakeClock();
  const inner = await SqliteStore.open(":memory:", { now: () => clock.now() });
  let hold: ReturnType<typeof deferred<void>> | undefined;
  // A store whose createRun() waits while `hold` is set: the run manager awaits it mid-submit.
  const store = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== "createRun") return typeof value === "function" ? value.bind(target) : value;
      return async (...args: Parameters<RunStore["createRun"]>) => {
        await hold?.promise;
        return await target.createRun(...args);
      };
    },
  });
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: keyed({ strategy: "replace", queueLimit: 1 }),
    store,
    clock,
  });
  try {
    const a1 = (await h.manager.submit({ tenant: "a" })).runId;
    const a2 = (await h.manager.submit({ tenant: "a" })).runId;
    await waitFor(() => gates.started.length === 1, "a1 to start");
    hold = deferred<void>();
    const submitting = h.manager.submit({ tenant: "a" }); // decides: replace a2
    gates.open(a1, "a");
    await waitFor(() => gates.started.length === 2, "a2 to start while a3 is being stored");
    hold.resolve();
    const a3 = (await submitting).runId;
    assert.equal((await h.store.getRun(a3))?.status, "queued");
    gates.open(a2, "a");
    await waitFor(() => gates.started.length === 3, "a3 to start after a2");
    gates.open(a3, "a");
    for (const id of [a1, a2, a3]) {
      assert.equal((await h.manager.wait(id)).status, "succeeded");
    }
  } finally {
    hold?.resolve();
    await h.close();
    await inner.close();
  }
});
