import assert from "node:assert/strict";
import { gated, harness, waitFor } from "./testdata/manager_harness.ts";

Deno.test("`RunManager.drain()` hands a running run past the grace over: resumable by the next process at once", async () => {
  const gates = gated(["a", "b"]);
  const one = await harness({
    spec: { a: [], b: ["a"] },
    fns: gates.fns,
    manager: { owner: "pod-1" },
  });
  const two = await harness({
    store: one.store,
    clock: one.clock,
    spec: { a: [], b: ["a"] },
    fns: gates.fns,
    manager: { owner: "pod-2" },
  });
  try {
    const { runId } = await one.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "a to start");
    gates.open(runId, "a");
    await waitFor(() => gates.started.includes(`${runId}:b`), "b to start");
    await one.manager.drain(0);
    const stored = await one.store.getRun(runId);
    assert.equal(stored?.status, "running", "a handed-over run is not cancelled");
    assert.equal(stored?.nodes.a?.status, "succeeded");
    // The lease was released: the next process resumes it without waiting the lease (30 s).
    assert.deepEqual(await two.manager.recover(), { resumed: 1, requeued: 0 });
    await waitFor(() => gates.started.filter((s) => s === `${runId}:b`).length === 2, "b again");
    gates.open(runId, "b");
    const record = await two.manager.wait(runId);
    assert.equal(record.status, "succeeded");
    assert.equal(gates.started.filter((s) => s === `${runId}:a`).length, 1, "a ran again");
  } finally {
    await two.close();
    await one.close();
  }
});
