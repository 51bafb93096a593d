import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { dag, testRunner, waitFor } from "../../testing/mod.ts";
import type { NodeRecord } from "../run_record.ts";
import type { NodeRunner } from "../runner_protocol.ts";

/** A hook that settles only when told to, recording when it was called. */
function slowHook() {
  const calls: string[] = [];
  const settle: (() => void)[] = [];
  const hook = (_runId: string, nodeId: string, node: NodeRecord) => {
    calls.push(`${nodeId}:${node.status}`);
    return new Promise<void>((resolve) => settle.push(resolve));
  };
  return { calls, settle, hook };
}

Deno.test("`executeRun()` waits for each hook call before the next one by default", async () => {
  const { calls, settle, hook } = slowHook();
  const runner = testRunner({});
  const running = executeRun(dag({ a: [], b: [] }), { runner, hooks: { onNodeUpdate: hook } });
  // Both nodes finish while the first hook call is still pending: no second call yet.
  await waitFor(() => runner.calls.length === 2 && runner.running.size === 0, "a and b to finish");
  assert.deepEqual(calls, ["a:running"]);
  while (calls.length < 4 || settle.length > 0) {
    await waitFor(() => settle.length > 0, "a hook call");
    settle.shift()!();
  }
  assert.equal((await running).status, "succeeded");
  assert.equal(calls.length, 4);
});

Deno.test("`executeRun()` with pipelineHooks calls hooks in order without waiting, and awaits them all", async () => {
  const { calls, settle, hook } = slowHook();
  let ended = false;
  const running = executeRun(dag({ a: [], b: ["a"] }), {
    runner: testRunner({}),
    hooks: { onNodeUpdate: hook },
    pipelineHooks: true,
  }).then((record) => {
    ended = true;
    return record;
  });
  await waitFor(() => calls.length === 4, "four hook calls");
  assert.deepEqual(calls, ["a:running", "a:succeeded", "b:running", "b:succeeded"]);
  assert.equal(ended, false, "the run waits for its pending hook calls");
  for (const resolve of settle) resolve();
  assert.equal((await running).status, "succeeded");
});

Deno.test("`executeRun()` with pipelineHooks stops the run at the first failed hook and rethrows it", async () => {
  let calls = 0;
  const runner: NodeRunner = testRunner({});
  await assert.rejects(
    executeRun(dag({ a: [], b: ["a"], c: ["b"] }), {
      runner,
      pipelineHooks: true,
      hooks: {
        onNodeUpdate(_runId, nodeId, node) {
          calls++;
          if (nodeId === "a" && node.status === "succeeded") {
            return Promise.reject(new Error("disk full"));
          }
          return Promise.resolve();
        },
      },
    }),
    /disk full/,
  );
  assert.ok(calls >= 2);
});
