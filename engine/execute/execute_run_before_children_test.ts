import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { dag, testRunner, waitFor } from "../../testing/mod.ts";

/** A barrier that opens only when told to, counting the times it was asked for. */
function barrier() {
  const open: (() => void)[] = [];
  const fail: ((error: Error) => void)[] = [];
  const before = () =>
    new Promise<void>((resolve, reject) => {
      open.push(resolve);
      fail.push(reject);
    });
  return { open, fail, before };
}

Deno.test("`executeRun()` starts a finished node's children only once `beforeChildren` resolved", async () => {
  const { open, before } = barrier();
  const runner = testRunner({});
  const calls: string[] = [];
  const running = executeRun(dag({ a: [], b: ["a"], c: ["a"] }), {
    runner,
    pipelineHooks: true,
    beforeChildren: before,
    hooks: { onNodeUpdate: (_runId, nodeId, node) => void calls.push(`${nodeId}:${node.status}`) },
  });
  await waitFor(() => open.length === 1, "a to end");
  assert.deepEqual(calls, ["a:running", "a:succeeded"], "a's success hook ran before the barrier");
  assert.deepEqual(runner.calls.map((c) => c.node), ["a"]);
  open.shift()!();
  await waitFor(() => open.length === 2, "b and c to end");
  assert.deepEqual(runner.calls.map((c) => c.node).sort(), ["a", "b", "c"]);
  for (const resolve of open) resolve();
  assert.equal((await running).status, "succeeded");
});

Deno.test("`executeRun()` stops the run when `beforeChildren` rejects: the children never start", async () => {
  const { fail, before } = barrier();
  const runner = testRunner({});
  const running = executeRun(dag({ a: [], b: ["a"] }), {
    runner,
    pipelineHooks: true,
    beforeChildren: before,
    hooks: { onNodeUpdate: () => {} },
  });
  await waitFor(() => fail.length === 1, "a to end");
  fail[0]!(new Error("commit failed: disk I/O error"));
  await assert.rejects(running, /commit failed: disk I\/O error/);
  assert.deepEqual(runner.calls.map((c) => c.node), ["a"]);
});

Deno.test("`executeRun()` with settleBeforeChildren starts children once the parent's hooks settled", async () => {
  const settle: (() => void)[] = [];
  const runner = testRunner({});
  const running = executeRun(dag({ a: [], b: ["a"] }), {
    runner,
    pipelineHooks: true,
    settleBeforeChildren: true,
    // Ignored next to settleBeforeChildren.
    beforeChildren: () => Promise.reject(new Error("not called")),
    hooks: { onNodeUpdate: () => new Promise<void>((resolve) => settle.push(resolve)) },
  });
  await waitFor(() => settle.length === 2, "a's running and success hooks");
  assert.deepEqual(runner.calls.map((c) => c.node), ["a"]);
  settle.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(runner.calls.map((c) => c.node), ["a"], "a's success hook still pending");
  settle.shift()!();
  await waitFor(() => runner.calls.length === 2, "b to start");
  await waitFor(() => settle.length === 2, "b's hooks");
  for (const resolve of settle) resolve();
  assert.equal((await running).status, "succeeded");
});
