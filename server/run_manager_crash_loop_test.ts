/**
 * The three-crash rule (SPEC §4): a run in flight during three engine stops is failed, naming
 * the node and the stops, instead of being resumed forever.
 */

import assert from "node:assert/strict";
import type { RunRecord } from "../engine/mod.ts";
import { gated, harness, waitFor } from "./testdata/manager_harness.ts";

const SPEC = { a: [], b: ["a"], c: ["b"] };

/** A run as an engine stopped in the middle of node b left it, `interruptions` times before. */
function crashed(runId: string, interruptions?: number): RunRecord {
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
      b: { status: "running", attempts: 1, ...(interruptions ? { interruptions } : {}) },
    },
  };
}

Deno.test("recovery counts each engine stop in the running node's record before resuming", async () => {
  const gates = gated(["b"]);
  const h = await harness({
    spec: SPEC,
    fns: gates.fns,
    manager: { owner: "replica-1", exclusiveStore: true },
  });
  try {
    await h.store.createRun(crashed("r1", 1), { owner: "replica-1", leaseMs: 30_000 });
    assert.deepEqual(await h.manager.recover(), { resumed: 1, requeued: 0 });
    await waitFor(() => gates.started.length === 1, "b to run again");
    // The count is stored with b while b runs again: a third stop will be its last.
    await waitFor(
      async () => (await h.store.getRun("r1"))?.nodes.b?.interruptions === 2,
      "the count to be stored",
    );
    gates.open("r1", "b");
    const record = await h.manager.wait("r1");
    assert.equal(record.status, "succeeded");
  } finally {
    await h.close();
  }
});

Deno.test("the third engine stop during a node fails the run, naming the node and the stops", async () => {
  const h = await harness({ spec: SPEC, manager: { owner: "replica-1", exclusiveStore: true } });
  try {
    await h.store.createRun(crashed("r1", 2), { owner: "replica-1", leaseMs: 30_000 });
    assert.deepEqual(await h.manager.recover(), { resumed: 1, requeued: 0 });
    const record = await h.manager.wait("r1");
    assert.equal(record.status, "failed");
    const message = 'Cannot complete node "b": the engine stopped 3 times while node "b" was ' +
      "running; the run is not resumed again";
    assert.deepEqual(record.error, { node: "b", message });
    // b is not executed again, and nothing after it runs.
    assert.deepEqual(h.runner.calls.map((c) => c.node), []);
    const stored = await h.store.getRun("r1");
    assert.equal(stored?.status, "failed");
    assert.equal(stored?.nodes.b?.status, "failed");
    assert.equal(stored?.nodes.b?.interruptions, 3);
    assert.equal(stored?.nodes.b?.error?.message, message);
  } finally {
    await h.close();
  }
});
