import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { dag, testRunner } from "../../testing/mod.ts";

// a → b → d, a → c → d: b fails in the first run, so d is skipped and c succeeds.
const workflow = dag({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] });

async function failedRun() {
  const runner = testRunner({
    b: () => {
      throw new Error("b is broken");
    },
  }, { fallback: (ctx, input) => ({ node: ctx.node, input }) });
  const record = await executeRun(workflow, {
    runner,
    input: { n: 1 },
    tmpDir: "/tmp",
    config: { flag: true },
  });
  assert.equal(record.status, "failed");
  return record;
}

Deno.test("`executeRun()` retry reuses succeeded nodes and runs the failed and skipped ones", async () => {
  const first = await failedRun();
  // fail-fast: c may have run or been cancelled; make it deterministic by checking both ways.
  const runner = testRunner({}, { fallback: (ctx, input) => ({ node: ctx.node, input }) });
  const record = await executeRun(workflow, { runner, retry: { of: first }, tmpDir: "/tmp" });
  assert.equal(record.status, "succeeded");
  assert.notEqual(record.runId, first.runId);
  assert.equal(record.retryOf, first.runId);
  assert.equal(record.retryFrom, undefined);
  assert.deepEqual(record.input, { n: 1 });
  const reran = runner.calls.map((c) => c.node);
  assert.ok(!reran.includes("a"), `a ran again: ${reran}`);
  assert.deepEqual(reran.filter((n) => n !== "c"), ["b", "d"]);
  assert.equal(reran.includes("c"), first.nodes.c!.status !== "succeeded");
  assert.equal(record.nodes.a!.reusedFrom, first.runId);
  assert.deepEqual(record.nodes.a!.output, first.nodes.a!.output);
  assert.equal(record.nodes.b!.reusedFrom, undefined);
  // b gets a's reused output as its input.
  assert.deepEqual(runner.calls.find((c) => c.node === "b")!.input, first.nodes.a!.output);
});

Deno.test("`executeRun()` retry from a node re-runs it and its descendants only", async () => {
  const runner = testRunner({}, { fallback: (ctx, input) => ({ node: ctx.node, input }) });
  const ok = await executeRun(workflow, { runner, input: 1, tmpDir: "/tmp" });
  assert.equal(ok.status, "succeeded");
  const again = testRunner({}, { fallback: (ctx, input) => ({ node: ctx.node, input }) });
  const record = await executeRun(workflow, {
    runner: again,
    retry: { of: ok, from: "c" },
    tmpDir: "/tmp",
  });
  assert.deepEqual(again.calls.map((c) => c.node), ["c", "d"]);
  assert.equal(record.retryFrom, "c");
  assert.equal(record.nodes.a!.reusedFrom, ok.runId);
  assert.equal(record.nodes.b!.reusedFrom, ok.runId);
  assert.equal(record.nodes.c!.reusedFrom, undefined);
  // A retry of the retry names the run that really executed a reused node.
  const third = await executeRun(workflow, {
    runner: testRunner({}),
    retry: { of: record, from: "d" },
    tmpDir: "/tmp",
  });
  assert.equal(third.nodes.a!.reusedFrom, ok.runId);
  assert.equal(third.nodes.c!.reusedFrom, record.runId);
});

Deno.test("`executeRun()` retry rejects an unknown from node and another workflow's run", async () => {
  const first = await failedRun();
  await assert.rejects(
    executeRun(workflow, { runner: testRunner({}), retry: { of: first, from: "zz" } }),
    RangeError,
  );
  await assert.rejects(
    executeRun(workflow, {
      runner: testRunner({}),
      retry: { of: { ...first, workflow: "other" } },
    }),
    /belongs to workflow "other"/,
  );
});

Deno.test("`executeRun()` records the config overlay and every attempt's error", async () => {
  const first = await failedRun();
  assert.deepEqual(first.config, { flag: true });
  assert.deepEqual(first.nodes.b!.history!.map((h) => [h.attempt, h.status, h.error?.message]), [
    [1, "failed", "b is broken"],
  ]);
  assert.equal(first.nodes.a!.history!.length, 1);
  assert.equal(first.nodes.a!.history![0]!.status, "succeeded");
});
