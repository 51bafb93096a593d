import assert from "node:assert/strict";
import { InputValidationError, type NodeStatus, type RunRecord } from "../engine/mod.ts";
import type { RunEvent } from "./run_manager.ts";
import { gated, harness, testWorkflow, waitFor } from "./testdata/manager_harness.ts";

Deno.test("`RunManager.submit()` persists every transition in the store as it happens", async () => {
  const gates = gated(["a", "b"]);
  const h = await harness({ fns: gates.fns });
  try {
    const { runId, created } = await h.manager.submit({ n: 1 });
    assert.equal(created, true);
    // Created before submit() resolved.
    const first = await h.store.getRun(runId);
    assert.equal(first?.status, "running");
    assert.equal(first?.trigger, "manual");
    assert.equal(first?.codeHash, h.workflow.codeHash);
    assert.deepEqual(first?.input, { n: 1 });

    const nodeStatus = async (id: string) => (await h.store.getRun(runId))?.nodes[id]?.status;
    await waitFor(() => gates.started.length === 1, "a to start");
    assert.equal(await nodeStatus("a"), "running");
    assert.equal(await nodeStatus("b"), undefined);
    gates.open(runId, "a", "A");
    await waitFor(() => gates.started.length === 2, "b to start");
    let stored = await h.store.getRun(runId);
    assert.equal(stored?.nodes.a?.status, "succeeded");
    assert.equal(stored?.nodes.a?.output, "A");
    assert.equal(stored?.status, "running");
    gates.open(runId, "b", "B");
    const record = await h.manager.wait(runId);
    assert.equal(record.status, "succeeded");
    assert.equal(record.result, "B");
    stored = await h.store.getRun(runId);
    assert.equal(stored?.status, "succeeded");
    assert.equal(stored?.result, "B");
    assert.equal(stored?.nodes.b?.output, "B");
    assert.equal(typeof stored?.finishedAt, "string");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.subscribe()` receives events in order, each one already persisted", async () => {
  const h = await harness({
    fns: {
      a: (ctx) => {
        ctx.log("hello", { k: 1 });
        ctx.log("again");
        return "A";
      },
    },
  });
  try {
    const events: RunEvent[] = [];
    const persisted: Promise<unknown>[] = [];
    h.manager.subscribe("*", (event) => {
      events.push(event);
      // The read sees what was stored before publishing, or a later transition: SQLite orders
      // its writes, so the manager pipelines a run's hooks and later writes may be queued too.
      if (event.type === "node") {
        const status = event.node.status;
        persisted.push(
          h.store.getRun(event.runId).then((r) => {
            const stored = r?.nodes[event.nodeId]?.status;
            assert.ok(stored === status || (status === "running" && stored === "succeeded"));
          }),
        );
      }
      if (event.type === "log") {
        persisted.push(
          h.store.getLogs(event.line.runId).then((lines) =>
            assert.ok((lines.at(-1)?.seq ?? 0) >= event.line.seq)
          ),
        );
      }
    });
    const { runId } = await h.manager.submit(null);
    const own: RunEvent[] = [];
    const unsubscribe = h.manager.subscribe(runId, (event) => own.push(event));
    await h.manager.wait(runId);
    unsubscribe();
    await Promise.all(persisted);
    const shape = events.map((e) =>
      e.type === "run"
        ? `run:${e.record.status}`
        : e.type === "node"
        ? `node:${e.nodeId}:${e.node.status}`
        : e.type === "log"
        ? `log:${e.line.seq}:${e.line.msg}`
        : `end:${e.record.status}`
    );
    assert.deepEqual(shape, [
      "run:running",
      "node:a:running",
      "log:1:hello",
      "log:2:again",
      "node:a:succeeded",
      "node:b:running",
      "node:b:succeeded",
      "run:succeeded",
      "end:succeeded",
    ]);
    assert.ok(own.length > 0 && own.at(-1)?.type === "end");
    const logs = await h.manager.getLogs(runId);
    assert.deepEqual(logs.map((l) => [l.seq, l.msg, l.node]), [[1, "hello", "a"], [
      2,
      "again",
      "a",
    ]]);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` stores and streams ctx.progress reports", async () => {
  const release = Promise.withResolvers<void>();
  const h = await harness({
    spec: { a: [] },
    fns: {
      a: async (ctx) => {
        ctx.progress(0.5, "half way");
        await release.promise;
        return 1;
      },
    },
  });
  try {
    const progress: unknown[] = [];
    h.manager.subscribe("*", (e) => {
      if (e.type === "node" && e.node.progress) progress.push(e.node.progress);
    });
    const { runId } = await h.manager.submit(null);
    await waitFor(() => progress.length === 1, "progress event");
    assert.deepEqual(progress, [{ value: 0.5, message: "half way" }]);
    const stored = await h.store.getRun(runId);
    assert.deepEqual(stored?.nodes.a?.progress, { value: 0.5, message: "half way" });
    assert.equal(stored?.nodes.a?.status, "running");
    release.resolve();
    assert.equal((await h.manager.wait(runId)).status, "succeeded");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.submit()` with a repeated idempotency key returns the same run, run once", async () => {
  const h = await harness({ spec: { a: [] } });
  try {
    const one = await h.manager.submit({ n: 1 }, { idempotencyKey: "order-1" });
    const two = await h.manager.submit({ n: 1 }, { idempotencyKey: "order-1" });
    assert.equal(two.runId, one.runId);
    assert.deepEqual([one.created, two.created], [true, false]);
    await h.manager.wait(one.runId);
    const three = await h.manager.submit({ n: 1 }, { idempotencyKey: "order-1" });
    assert.deepEqual(three, { runId: one.runId, created: false });
    const other = await h.manager.submit({ n: 1 }, { idempotencyKey: "order-2" });
    assert.notEqual(other.runId, one.runId);
    await h.manager.wait(other.runId);
    assert.equal(h.runner.calls.filter((c) => c.node === "a").length, 2);
    assert.equal((await h.manager.listRuns({})).runs.length, 2);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.submit()` rejects input that does not match inputSchema and stores nothing", async () => {
  const h = await harness({
    dag: {
      inputSchema: { type: "object", required: ["n"], properties: { n: { type: "number" } } },
    },
  });
  try {
    await assert.rejects(h.manager.submit({ n: "x" }), InputValidationError);
    await assert.rejects(h.manager.runAndWait({}), InputValidationError);
    assert.deepEqual((await h.manager.listRuns({})).runs, []);
    const record = await h.manager.runAndWait({ n: 2 });
    assert.equal(record.status, "succeeded");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.cancel()` aborts a running run and persists the cancellation", async () => {
  const gates = gated(["a"]);
  const h = await harness({ fns: gates.fns });
  try {
    const { runId } = await h.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "a to start");
    const record = await h.manager.cancel(runId);
    assert.equal(record?.status, "cancelled");
    const stored = await h.store.getRun(runId);
    const statuses: Record<string, NodeStatus | undefined> = {
      a: stored?.nodes.a?.status,
      b: stored?.nodes.b?.status,
    };
    assert.equal(stored?.status, "cancelled");
    assert.deepEqual(statuses, { a: "cancelled", b: "skipped" });
    assert.equal(h.manager.stats().running, 0);
    // Cancelling again returns the finished record; an unknown id is undefined.
    assert.equal((await h.manager.cancel(runId))?.status, "cancelled");
    assert.equal(await h.manager.cancel("no-such-run"), undefined);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.runAndWait()` resolves with the final record; its signal cancels the run", async () => {
  const gates = gated(["a"]);
  const h = await harness({ spec: { a: [] }, fns: gates.fns });
  try {
    const controller = new AbortController();
    const pending = h.manager.runAndWait(null, { signal: controller.signal });
    await waitFor(() => gates.started.length === 1, "a to start");
    controller.abort();
    const record: RunRecord = await pending;
    assert.equal(record.status, "cancelled");
    assert.equal((await h.store.getRun(record.runId))?.status, "cancelled");
    await assert.rejects(h.manager.wait("unknown"), RangeError);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` fails a run whose node fails and records the error", async () => {
  const h = await harness({
    fns: {
      a: () => {
        throw new Error("boom");
      },
    },
  });
  try {
    const record = await h.manager.runAndWait(null);
    assert.equal(record.status, "failed");
    assert.deepEqual(record.error, { node: "a", message: "boom" });
    const stored = await h.store.getRun(record.runId);
    assert.deepEqual(stored?.error, { node: "a", message: "boom" });
    assert.equal(stored?.nodes.a?.status, "failed");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` redacts secrets from stored logs and errors", async () => {
  const h = await harness({
    spec: { a: [] },
    fns: {
      a: (ctx) => {
        ctx.log(`token is ${(ctx.secrets.github as { token: string }).token}`);
        throw new Error("bad token ghp_secret123");
      },
    },
    manager: { secrets: { github: { token: "ghp_secret123" } } },
  });
  try {
    const record = await h.manager.runAndWait(null);
    const stored = JSON.stringify(await h.store.getRun(record.runId)) +
      JSON.stringify(await h.store.getLogs(record.runId));
    assert.ok(!stored.includes("ghp_secret123"), stored);
    assert.ok(stored.includes("[REDACTED]"));
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` passes the store's node cache to the executor", async () => {
  const h = await harness({ spec: { a: [] }, dag: { nodes: { a: { cacheMs: 60_000 } } } });
  try {
    const one = await h.manager.runAndWait({ same: true });
    const two = await h.manager.runAndWait({ same: true });
    assert.equal(one.nodes.a?.cached, undefined);
    assert.equal(two.nodes.a?.cached, true);
    assert.equal((await h.store.getRun(two.runId))?.nodes.a?.cached, true);
    assert.equal(h.runner.calls.length, 1);
    assert.match(
      await h.manager.metrics(),
      /^pipedreamer_node_cache_hits_total\{workflow="test-flow",node="a"\} 1$/m,
    );
    assert.match(
      await h.manager.metrics(),
      /^pipedreamer_node_cache_misses_total\{workflow="test-flow",node="a"\} 1$/m,
    );
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.reload()` gives new runs the new workflow; runs in flight keep theirs", async () => {
  const gates = gated(["a"]);
  const h = await harness({ fns: gates.fns });
  try {
    const old = await h.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "a to start");
    const next = { ...testWorkflow({ spec: { a: [], c: ["a"] } }), codeHash: "hash-v2" };
    h.manager.reload(next);
    assert.equal(h.manager.workflow, next);
    const fresh = await h.manager.submit(null);
    gates.open(old.runId, "a");
    gates.open(fresh.runId, "a");
    const [oldRecord, freshRecord] = await Promise.all([
      h.manager.wait(old.runId),
      h.manager.wait(fresh.runId),
    ]);
    assert.deepEqual(Object.keys(oldRecord.nodes), ["a", "b"]);
    assert.deepEqual(Object.keys(freshRecord.nodes), ["a", "c"]);
    assert.equal((await h.store.getRun(old.runId))?.codeHash, "hash-workflow");
    assert.equal((await h.store.getRun(fresh.runId))?.codeHash, "hash-v2");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.versionsInUse()` lists the current version and those of running and waiting runs", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: { maxRuns: 1, queueLimit: 10, strategy: "append", startDelayMs: 0 },
  });
  try {
    const v1 = h.workflow;
    assert.deepEqual(h.manager.versionsInUse(), [v1]);
    const running = await h.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "the first run to start");
    const v2 = { ...testWorkflow({ spec: { a: [] } }), codeHash: "hash-v2" };
    h.manager.reload(v2);
    const waiting = await h.manager.submit(null);
    const v3 = { ...testWorkflow({ spec: { a: [] } }), codeHash: "hash-v3" };
    h.manager.reload(v3);
    assert.deepEqual(h.manager.versionsInUse(), [v3, v1, v2]);
    gates.open(running.runId, "a");
    await h.manager.wait(running.runId);
    await waitFor(() => gates.started.length === 2, "the waiting run to start");
    assert.deepEqual(h.manager.versionsInUse(), [v3, v2]);
    gates.open(waiting.runId, "a");
    await h.manager.wait(waiting.runId);
    assert.deepEqual(h.manager.versionsInUse(), [v3]);
  } finally {
    await h.close();
  }
});
