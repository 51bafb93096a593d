/**
 * What concurrency limits mean with several replicas on one store (docs/server.md): each
 * `RunManager` counts the runs it holds, so `maxRuns` (per key) and `maxRunsTotal` hold per
 * replica, not across replicas.
 */

import assert from "node:assert/strict";
import { SqliteStore } from "../store/mod.ts";
import { gated, harness, waitFor } from "./testdata/manager_harness.ts";
import { FakeClock } from "../testing/mod.ts";

Deno.test("two `RunManager` replicas on one store each run up to maxRuns of a key (limits hold per replica)", async () => {
  const clock = new FakeClock();
  const store = await SqliteStore.open(":memory:", { now: () => clock.now() });
  const gates = gated(["a"]);
  const options = {
    spec: { a: [] },
    fns: gates.fns,
    concurrency: {
      key: "/tenant",
      maxRuns: 1,
      maxRunsTotal: 1,
      queueLimit: 10,
      strategy: "append" as const,
      startDelayMs: 0,
    },
    store,
    clock,
  };
  const one = await harness({ ...options, manager: { owner: "one" } });
  const two = await harness({ ...options, manager: { owner: "two" } });
  try {
    const first = await one.manager.submit({ tenant: "acme" });
    const second = await two.manager.submit({ tenant: "acme" });
    const third = await one.manager.submit({ tenant: "acme" });
    // One run of key "acme" on each replica: two at once, though maxRuns and maxRunsTotal are 1.
    await waitFor(() => gates.started.length === 2, "a run of acme started on each replica");
    assert.deepEqual(gates.started.sort(), [`${first.runId}:a`, `${second.runId}:a`].sort());
    assert.deepEqual(one.manager.stats(), { queued: 1, running: 1 });
    assert.deepEqual(two.manager.stats(), { queued: 0, running: 1 });
    gates.open(first.runId, "a");
    gates.open(second.runId, "a");
    await waitFor(() => gates.started.length === 3, "the third run once a slot of one freed");
    assert.equal(gates.started[2], `${third.runId}:a`);
    gates.open(third.runId, "a");
    assert.equal((await one.manager.wait(third.runId)).status, "succeeded");
  } finally {
    await one.close();
    await two.close();
    await store.close();
  }
});
