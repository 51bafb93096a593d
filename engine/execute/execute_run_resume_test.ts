import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { InputValidationError } from "../errors.ts";
import { dag, testRunner } from "../../testing/mod.ts";
import type { RunRecord } from "../run_record.ts";
import type { NodeCache } from "../runner_protocol.ts";

function memoryCache() {
  const entries = new Map<string, { value: { output: unknown; routes?: string[] }; ttl: number }>();
  const cache: NodeCache & { entries: typeof entries } = {
    entries,
    get: (key) => Promise.resolve(entries.get(key)?.value),
    set: (key, value, ttl) => (entries.set(key, { value, ttl }), Promise.resolve()),
  };
  return cache;
}

function crashedRecord(nodes: RunRecord["nodes"]): RunRecord {
  return {
    runId: "run-7",
    workflow: "test-flow",
    version: "1.0.0",
    status: "running",
    input: { n: 1 },
    startedAt: "2025-01-01T00:00:00.000Z",
    nodes,
  };
}

Deno.test("`executeRun()` resumes a run without re-executing its finished nodes", async () => {
  const runner = testRunner({}, { fallback: (ctx, input) => ({ node: ctx.node, input }) });
  const workflow = dag({ a: [], b: ["a"], c: ["b"] });
  const resume = crashedRecord({
    a: { status: "succeeded", attempts: 1, output: "A-from-before" },
    b: { status: "running", attempts: 1 },
    c: { status: "pending", attempts: 0 },
  });
  const record = await executeRun(workflow, { runner, resume, tmpDir: "/tmp" });
  assert.deepEqual(runner.calls.map((c) => c.node), ["b", "c"]);
  assert.deepEqual(runner.calls[0]!.input, "A-from-before");
  assert.equal(record.runId, "run-7");
  assert.deepEqual(record.input, { n: 1 });
  assert.equal(record.startedAt, "2025-01-01T00:00:00.000Z");
  assert.equal(record.status, "succeeded");
  assert.deepEqual(record.nodes.a, { status: "succeeded", attempts: 1, output: "A-from-before" });
});

Deno.test("`executeRun()` resume keeps earlier routes: unchosen branches stay skipped", async () => {
  const runner = testRunner({});
  const workflow = dag({ a: [], b: ["a"], c: ["a"] });
  const resume = crashedRecord({
    a: { status: "succeeded", attempts: 1, output: 1, routes: ["b"] },
    b: { status: "pending", attempts: 0 },
    c: { status: "skipped", attempts: 0 },
  });
  const record = await executeRun(workflow, { runner, resume, tmpDir: "/tmp" });
  assert.deepEqual(runner.calls.map((c) => c.node), ["b"]);
  assert.equal(record.nodes.c!.status, "skipped");
  assert.deepEqual(record.result, { b: "b" });
});

Deno.test("`executeRun()` rejects resuming a run of another workflow", async () => {
  const resume = { ...crashedRecord({}), workflow: "other" };
  await assert.rejects(
    executeRun(dag({ a: [] }), { runner: testRunner({}), resume }),
    (e: Error) => e instanceof TypeError && /belongs to workflow "other"/.test(e.message),
  );
});

Deno.test("`executeRun()` reuses cached outputs and routes for the same code, input and config", async () => {
  const cache = memoryCache();
  let computed = 0;
  const runner = testRunner({
    a: (ctx, input) => (computed++, ctx.route("b"), { doubled: (input as number) * 2 }),
  });
  const workflow = dag({ a: [], b: ["a"], c: ["a"] }, { nodes: { a: { cacheMs: 60_000 } } });
  const first = await executeRun(workflow, { runner, cache, input: 21, tmpDir: "/tmp" });
  assert.equal(cache.entries.size, 1);
  assert.equal([...cache.entries.values()][0]!.ttl, 60_000);
  assert.equal(first.nodes.a!.cached, undefined);

  const second = await executeRun(workflow, { runner, cache, input: 21, tmpDir: "/tmp" });
  assert.equal(computed, 1);
  assert.deepEqual(
    { ...second.nodes.a, startedAt: 0, finishedAt: 0, durationMs: 0 },
    {
      status: "succeeded",
      attempts: 0,
      cached: true,
      output: { doubled: 42 },
      routes: ["b"],
      startedAt: 0,
      finishedAt: 0,
      durationMs: 0,
    },
  );
  assert.equal(second.nodes.c!.status, "skipped");

  await executeRun(workflow, { runner, cache, input: 22, tmpDir: "/tmp" });
  await executeRun(workflow, { runner, cache, input: 21, config: { x: 1 }, tmpDir: "/tmp" });
  assert.equal(computed, 3, "a new input and a new config each miss");
  assert.equal(cache.entries.size, 3);
});

Deno.test("`executeRun()` rejects input that does not match inputSchema before any node runs", async () => {
  const runner = testRunner({});
  const workflow = dag({ a: [] }, {
    inputSchema: {
      type: "object",
      properties: { name: { type: "string" } },
      required: ["name"],
    },
  });
  await assert.rejects(
    executeRun(workflow, { runner, input: { name: 5 } }),
    (e: unknown) => e instanceof InputValidationError && e.errors.join() === "/name must be string",
  );
  assert.equal(runner.calls.length, 0);
  const ok = await executeRun(workflow, { runner, input: { name: "ada" }, tmpDir: "/tmp" });
  assert.equal(ok.status, "succeeded");
  const unchecked = await executeRun(workflow, {
    runner,
    input: 5,
    validateInput: false,
    tmpDir: "/tmp",
  });
  assert.equal(unchecked.status, "succeeded");
});
