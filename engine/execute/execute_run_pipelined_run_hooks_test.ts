import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { dag, testRunner, waitFor } from "../../testing/mod.ts";
import type { NodeRecord, RunRecord } from "../run_record.ts";

/** Run and node hooks that settle only when told to, recording their calls in order. */
function slowHooks() {
  const calls: string[] = [];
  const settle: (() => void)[] = [];
  const pending = () => new Promise<void>((resolve) => settle.push(resolve));
  return {
    calls,
    settleAll: () => settle.splice(0).forEach((resolve) => resolve()),
    hooks: {
      onRunUpdate(record: RunRecord) {
        calls.push(`run:${record.status}`);
        return pending();
      },
      onNodeUpdate(_runId: string, nodeId: string, node: NodeRecord) {
        calls.push(`${nodeId}:${node.status}`);
        return pending();
      },
    },
  };
}

Deno.test("`executeRun()` with pipelineHooks calls the start and final run hooks behind pending node hooks", async () => {
  const { calls, settleAll, hooks } = slowHooks();
  let ended = false;
  const running = executeRun(dag({ a: [], b: ["a"] }), {
    runner: testRunner({}),
    hooks,
    pipelineHooks: true,
  }).then((record) => {
    ended = true;
    return record;
  });
  // Nothing has settled, yet every transition up to the final one was called, in order.
  await waitFor(() => calls.length === 6, "six hook calls");
  assert.deepEqual(calls, [
    "run:running",
    "a:running",
    "a:succeeded",
    "b:running",
    "b:succeeded",
    "run:succeeded",
  ]);
  assert.equal(ended, false, "the run waits for every pending hook call");
  settleAll();
  assert.equal((await running).status, "succeeded");
});

Deno.test("`executeRun()` with pipelineHooks fails the run when the start hook fails", async () => {
  await assert.rejects(
    executeRun(dag({ a: [], b: ["a"] }), {
      runner: testRunner({}),
      pipelineHooks: true,
      hooks: {
        onRunUpdate(record) {
          return record.status === "running"
            ? Promise.reject(new Error("disk full"))
            : Promise.resolve();
        },
      },
    }),
    /disk full/,
  );
});

Deno.test("`executeRun()` without pipelineHooks awaits the start hook before any node starts", async () => {
  const { calls, settleAll, hooks } = slowHooks();
  const running = executeRun(dag({ a: [] }), { runner: testRunner({}), hooks });
  await waitFor(() => calls.length === 1, "the first hook call");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(calls, ["run:running"]);
  while (!calls.includes("run:succeeded")) {
    settleAll();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  settleAll();
  assert.equal((await running).status, "succeeded");
});
