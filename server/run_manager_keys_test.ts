import assert from "node:assert/strict";
import { gated, harness, waitFor } from "./testdata/manager_harness.ts";

Deno.test("`RunManager` with concurrency.key limits each tenant and gives free slots to waiting tenants in turn", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: {
      maxRuns: 1,
      queueLimit: 100,
      strategy: "append",
      startDelayMs: 0,
      key: "/tenant",
      maxRunsTotal: 2,
    },
  });
  try {
    const tenantOf = new Map<string, string>();
    const submit = async (tenant: string) => {
      const { runId } = await h.manager.submit({ tenant });
      tenantOf.set(runId, tenant);
      return runId;
    };
    // A busy tenant floods the queue first; two others arrive later.
    const busy = [];
    for (let i = 0; i < 6; i++) busy.push(await submit("busy"));
    const quiet = [await submit("quiet-1"), await submit("quiet-2")];
    await waitFor(() => gates.started.length === 2, "two runs to start");
    const order = () => gates.started.map((s) => tenantOf.get(s.split(":")[0]!));
    // busy has one slot (maxRuns per key), quiet-1 the other (maxRunsTotal 2).
    assert.deepEqual(order(), ["busy", "quiet-1"]);
    assert.deepEqual(h.manager.stats(), { queued: 6, running: 2 });
    // busy's run ends: the free slot goes to quiet-2 (never started), not to busy's queue.
    gates.open(busy[0]!, "a");
    await waitFor(() => gates.started.length === 3, "a third run");
    assert.deepEqual(order(), ["busy", "quiet-1", "quiet-2"]);
    gates.open(quiet[0]!, "a");
    gates.open(quiet[1]!, "a");
    await waitFor(() => gates.started.length === 4, "busy again");
    assert.equal(order()[3], "busy");
    // Never more than one busy run at once, whatever the free slots.
    await waitFor(() => h.manager.stats().running === 1, "only busy left");
    for (const runId of busy) gates.open(runId, "a");
    for (const runId of [...busy, ...quiet]) {
      assert.equal((await h.manager.wait(runId)).status, "succeeded");
    }
  } finally {
    await h.close();
  }
});
