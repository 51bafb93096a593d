import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { dag, FakeClock } from "../../testing/mod.ts";
import { createMemoryDurableState } from "../durable_memory.ts";
import { NodeFailure } from "../errors.ts";
import type { NodeCall, NodeCallResult, NodeRunner } from "../runner_protocol.ts";

type Fn = (call: NodeCall, signal: AbortSignal) => unknown;

/** A runner of plain functions that records every call (with `ctx.item`). */
function runner(fns: Record<string, Fn>) {
  const calls: { node: string; attempt: number; item?: { index: number; total: number } }[] = [];
  let running = 0;
  const r: NodeRunner & { calls: typeof calls; maxRunning: number } = {
    calls,
    maxRunning: 0,
    async run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
      calls.push({
        node: call.node.id,
        attempt: call.attempt,
        ...(call.item ? { item: call.item } : {}),
      });
      running++;
      r.maxRunning = Math.max(r.maxRunning, running);
      try {
        await Promise.resolve();
        return { output: await fns[call.node.id]!(call, signal) };
      } finally {
        running--;
      }
    },
    close: () => Promise.resolve(),
  };
  return r;
}

const MAP = { over: "items", concurrency: 3 };

Deno.test("`executeRun()` maps a node over its parent's array: order, ctx.item, bounded concurrency", async () => {
  const r = runner({
    list: () => ({ items: [1, 2, 3, 4, 5, 6, 7] }),
    double: (call) => {
      assert.equal(call.item?.total, 7);
      return (call.input as number) * 2;
    },
    sum: (call) => (call.input as number[]).reduce((a, b) => a + b, 0),
  });
  const workflow = dag({ list: [], double: ["list"], sum: ["double"] }, {
    nodes: { double: { map: MAP } },
  });
  const durable = createMemoryDurableState();
  const record = await executeRun(workflow, { runner: r, tmpDir: "/tmp", durable, runId: "r1" });
  assert.equal(record.status, "succeeded");
  assert.deepEqual(record.nodes.double!.output, [2, 4, 6, 8, 10, 12, 14]);
  assert.deepEqual(record.nodes.double!.items, { total: 7, succeeded: 7, failed: 0, running: 0 });
  assert.equal(record.result, 56);
  assert.deepEqual(
    r.calls.filter((c) => c.node === "double").map((c) => c.item?.index).sort(),
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.ok(r.maxRunning <= 3, `at most 3 elements at once, saw ${r.maxRunning}`);
  const page = await durable.listMapItems("r1", "double", { limit: 5 });
  assert.deepEqual(page.items.map((i) => [i.index, i.status, i.output]), [
    [0, "succeeded", 2],
    [1, "succeeded", 4],
    [2, "succeeded", 6],
    [3, "succeeded", 8],
    [4, "succeeded", 10],
  ]);
  assert.equal(page.nextCursor, "5");
});

Deno.test("`executeRun()` retries map elements one by one and fails the node on a final element failure", async () => {
  const seen = new Map<number, number>();
  const r = runner({
    list: () => [0, 1, 2],
    each: (call) => {
      const i = call.item!.index;
      seen.set(i, (seen.get(i) ?? 0) + 1);
      if (i === 1 && call.attempt === 1) throw new Error("flaky");
      if (i === 2) throw new NodeFailure("bad element", { nonRetryable: true });
      return i;
    },
  });
  const workflow = dag({ list: [], each: ["list"] }, {
    settings: { backoffMs: 0, maxBackoffMs: 0 },
    nodes: { each: { map: { over: ".", concurrency: 1 }, retries: 2 } },
  });
  const record = await executeRun(workflow, { runner: r, tmpDir: "/tmp", random: () => 0 });
  assert.equal(record.status, "failed");
  assert.equal(record.error?.node, "each");
  assert.match(record.error!.message, /^Element 2 of map node "each" failed: bad element/);
  assert.deepEqual([...seen], [[0, 1], [1, 2], [2, 1]]);
  assert.deepEqual(record.nodes.each!.items, { total: 3, succeeded: 2, failed: 1, running: 0 });
});

Deno.test("`executeRun()` gives { error } for failed elements of an allowFailure map node", async () => {
  const r = runner({
    list: () => ({ items: ["a", "b"] }),
    each: (call) => {
      if (call.input === "b") throw new Error("no b");
      return call.input;
    },
  });
  const workflow = dag({ list: [], each: ["list"] }, {
    nodes: { each: { map: MAP, allowFailure: true } },
  });
  const record = await executeRun(workflow, { runner: r, tmpDir: "/tmp" });
  assert.equal(record.status, "succeeded");
  assert.deepEqual(record.result, ["a", { error: { message: "no b" } }]);
});

Deno.test("`executeRun()` fails a map node whose field is not an array, naming what it got", async () => {
  const table: [unknown, string][] = [
    [
      { items: 3 },
      'Cannot map node "each": field "items" of the parent\'s output is a number, not an array',
    ],
    [
      { other: [] },
      'Cannot map node "each": the parent\'s output (an object) has no field "items"',
    ],
    ["text", 'Cannot map node "each": the parent\'s output (a string) has no field "items"'],
  ];
  for (const [output, message] of table) {
    const r = runner({ list: () => output, each: () => 1 });
    const workflow = dag({ list: [], each: ["list"] }, { nodes: { each: { map: MAP } } });
    const record = await executeRun(workflow, { runner: r, tmpDir: "/tmp" });
    assert.equal(record.status, "failed");
    assert.ok(
      record.nodes.each!.error!.message.startsWith(message),
      record.nodes.each!.error!.message,
    );
  }
  const r = runner({ list: () => [], each: () => 1 });
  const workflow = dag({ list: [], each: ["list"] }, {
    nodes: { each: { map: { over: ".", concurrency: 2 } } },
  });
  const empty = await executeRun(workflow, { runner: r, tmpDir: "/tmp" });
  assert.deepEqual(empty.result, []);
});

Deno.test("`executeRun()` resumes a map node without re-running its stored elements", async () => {
  const durable = createMemoryDurableState();
  for (const index of [0, 2]) {
    await durable.putMapItem("r1", "each", {
      index,
      status: "succeeded",
      attempts: 1,
      output: `stored-${index}`,
    });
  }
  await durable.putMapItem("r1", "each", { index: 1, status: "running", attempts: 1 });
  const r = runner({ list: () => [10, 11, 12, 13], each: (call) => `new-${call.input}` });
  const workflow = dag({ list: [], each: ["list"] }, {
    nodes: { each: { map: { over: ".", concurrency: 2 } } },
  });
  const record = await executeRun(workflow, {
    runner: r,
    tmpDir: "/tmp",
    durable,
    resume: {
      runId: "r1",
      workflow: workflow.name,
      version: "1.0.0",
      status: "running",
      input: null,
      nodes: {
        list: { status: "succeeded", attempts: 1, output: [10, 11, 12, 13] },
        each: { status: "running", attempts: 1 },
      },
    },
  });
  assert.deepEqual(record.result, ["stored-0", "new-11", "stored-2", "new-13"]);
  assert.deepEqual(r.calls.map((c) => c.item?.index), [1, 3]);
});

Deno.test("`executeRun()` cancels a map node's elements in flight when the run is cancelled", async () => {
  const controller = new AbortController();
  let started = 0;
  const r = runner({
    list: () => [1, 2, 3, 4],
    each: (_call, signal) =>
      new Promise((_resolve, reject) => {
        if (++started === 2) controller.abort(new Error("stop"));
        signal.addEventListener("abort", () => reject(signal.reason));
      }),
  });
  const workflow = dag({ list: [], each: ["list"] }, {
    nodes: { each: { map: { over: ".", concurrency: 2 } } },
  });
  const record = await executeRun(workflow, {
    runner: r,
    tmpDir: "/tmp",
    signal: controller.signal,
  });
  assert.equal(record.status, "cancelled");
  assert.equal(record.nodes.each!.status, "cancelled");
  assert.equal(started, 2);
});

Deno.test("`executeRun()` sleeps on its clock and passes the input through a sleep node", async () => {
  const clock = new FakeClock();
  const r = runner({ a: () => "A", b: (call) => `got ${call.input}` });
  const workflow = dag({ a: [], nap: ["a"], b: ["nap"] }, {
    nodes: { nap: { kind: "sleep", sleepMs: 600_000 }, a: { timeoutMs: 0 }, b: { timeoutMs: 0 } },
  });
  const done = executeRun(workflow, { runner: r, tmpDir: "/tmp", clock });
  await clock.waitForSleepers(1);
  assert.deepEqual(clock.sleeps, [600_000]);
  await clock.advance(599_999);
  assert.equal(r.calls.length, 1);
  await clock.advance(1);
  const record = await done;
  assert.equal(record.result, "got A");
  assert.equal(record.nodes.nap!.output, "A");
  assert.equal(record.nodes.nap!.durationMs, 600_000);
});

Deno.test("`executeRun()` gives a wait node its event, or fails it at its timeout", async () => {
  const r = runner({ a: () => "A", b: (call) => call.input });
  const workflow = dag({ a: [], approve: ["a"], b: ["approve"] }, {
    nodes: {
      approve: { kind: "wait", wait: { event: "approval", timeoutMs: 3_600_000 } },
      a: { timeoutMs: 0 },
      b: { timeoutMs: 0 },
    },
  });
  const given = await executeRun(workflow, {
    runner: r,
    tmpDir: "/tmp",
    events: { approval: { approved: true } },
  });
  assert.deepEqual(given.result, { approved: true });

  const clock = new FakeClock();
  const done = executeRun(workflow, { runner: r, tmpDir: "/tmp", clock });
  await clock.waitForSleepers(1);
  await clock.advance(3_600_000);
  const timedOut = await done;
  assert.equal(timedOut.status, "failed");
  assert.equal(
    timedOut.nodes.approve!.error?.message,
    'Cannot complete wait node "approve": no "approval" event arrived within 1h; raise wait.timeout in workflow.yaml or send the event sooner',
  );
  assert.equal(timedOut.nodes.b!.status, "skipped");

  const forever = dag({ w: [] }, { nodes: { w: { kind: "wait", wait: { event: "go" } } } });
  const refused = await executeRun(forever, { runner: r, tmpDir: "/tmp" });
  assert.equal(refused.status, "failed");
  assert.match(
    refused.nodes.w!.error!.message,
    /nothing can send the "go" event outside dev and serve/,
  );
});

Deno.test("`executeRun()` with park ends a run `waiting` and resumes it once the wait resolves", async () => {
  const clock = new FakeClock();
  const durable = createMemoryDurableState();
  const r = runner({ a: () => "A", side: () => "S", b: (call) => call.input });
  const workflow = dag({ a: [], side: [], nap: ["a"], approve: ["nap"], b: ["approve"] }, {
    nodes: {
      nap: { kind: "sleep", sleepMs: 60_000 },
      approve: { kind: "wait", wait: { event: "approval" } },
    },
  });
  const options = { runner: r, tmpDir: "/tmp", clock, durable, park: true, runId: "p1" };
  const first = await executeRun(workflow, options);
  assert.equal(first.status, "waiting");
  assert.equal(first.nodes.side!.status, "succeeded");
  assert.equal(first.nodes.nap!.status, "waiting");
  assert.deepEqual(first.nodes.nap!.waitingFor, {
    dueAt: new Date(clock.now() + 60_000).toISOString(),
  });
  assert.equal(first.nodes.b!.status, "pending");
  assert.equal(first.finishedAt, undefined);
  assert.equal(clock.pending, 0, "a parked run holds no timer");

  // Resumed before the due time (a restart): it parks again with the original due time.
  await clock.advance(30_000);
  const early = await executeRun(workflow, { ...options, resume: first });
  assert.equal(early.status, "waiting");
  assert.equal(early.nodes.nap!.waitingFor?.dueAt, first.nodes.nap!.waitingFor?.dueAt);

  await clock.advance(30_000);
  const [due] = await durable.listDueWaits(clock.now());
  assert.equal(due?.nodeId, "nap");
  const slept = await executeRun(workflow, { ...options, resume: early });
  assert.equal(slept.status, "waiting");
  assert.equal(slept.nodes.nap!.status, "succeeded");
  assert.deepEqual(slept.nodes.approve!.waitingFor, { event: "approval" });

  assert.equal(
    await durable.resolveWait("p1", "approve", {
      kind: "event",
      event: "approval",
      payload: { ok: 1 },
    }),
    true,
  );
  const done = await executeRun(workflow, { ...options, resume: slept });
  assert.equal(done.status, "succeeded");
  assert.deepEqual(done.result, { b: { ok: 1 }, side: "S" });
  assert.deepEqual(r.calls.map((c) => c.node).sort(), ["a", "b", "side"]);
});

Deno.test("`executeRun()` runs a workflow: node as a child run, once per element under map", async () => {
  const child = dag({ double: [] });
  child.name = "child-flow";
  const parent = dag({ list: [], enrich: ["list"], each: ["list"], post: ["enrich", "each"] }, {
    nodes: {
      enrich: { kind: "workflow", workflow: "/wf/child" },
      each: { kind: "workflow", workflow: "/wf/child", map: { over: ".", concurrency: 2 } },
    },
  });
  parent.subWorkflows = { "/wf/child": child };
  const r = runner({
    list: () => [1, 2, 3],
    double: (call) => Array.isArray(call.input) ? call.input.length : (call.input as number) * 2,
    post: (call) => call.input,
  });
  const durable = createMemoryDurableState();
  const record = await executeRun(parent, { runner: r, tmpDir: "/tmp", runId: "p", durable });
  assert.equal(record.status, "succeeded", JSON.stringify(record.nodes));
  assert.deepEqual(record.result, { enrich: 3, each: [2, 4, 6] });
  assert.equal(record.nodes.enrich!.childRunId, "p~enrich");
  const items = await durable.listMapItems("p", "each");
  assert.deepEqual(items.items.map((i) => i.childRunId), ["p~each~0", "p~each~1", "p~each~2"]);

  const failing = runner({
    list: () => [1],
    double: () => {
      throw new Error("child boom");
    },
  });
  const single = dag({ list: [], enrich: ["list"] }, {
    nodes: { enrich: { kind: "workflow", workflow: "/wf/child" } },
  });
  single.subWorkflows = parent.subWorkflows;
  const failed = await executeRun(single, { runner: failing, tmpDir: "/tmp", runId: "q" });
  assert.equal(failed.status, "failed");
  assert.equal(
    failed.nodes.enrich!.error?.message,
    'Child run "q~enrich" of workflow "child-flow" failed at node "double": child boom',
  );
});
