import assert from "node:assert/strict";
import { DrainingError } from "./errors.ts";
import { gated, harness, waitFor } from "./testdata/manager_harness.ts";

Deno.test("`RunManager.metrics()` exposes runs, queue, in-flight and node metrics as Prometheus text", async () => {
  const h = await harness({
    fns: {
      a: (_ctx, input) => {
        if (input === "fail") throw new Error("no");
        return input;
      },
    },
    dag: { nodes: { a: { retries: 1 } }, settings: { backoffMs: 0 } },
  });
  try {
    await h.manager.runAndWait("ok");
    // The retry waits its backoff on the fake clock.
    let done = false;
    const failed = h.manager.runAndWait("fail").finally(() => done = true);
    while (!done) await h.clock.advance(100);
    assert.equal((await failed).status, "failed");
    const text = await h.manager.metrics();
    const expected = [
      "# HELP pipedreamer_runs_total Runs finished, by final status.",
      "# TYPE pipedreamer_runs_total counter",
      'pipedreamer_runs_total{workflow="test-flow",status="succeeded"} 1',
      'pipedreamer_runs_total{workflow="test-flow",status="failed"} 1',
      'pipedreamer_runs_total{workflow="test-flow",status="cancelled"} 0',
      "# TYPE pipedreamer_runs_in_flight gauge",
      'pipedreamer_runs_in_flight{workflow="test-flow"} 0',
      "# TYPE pipedreamer_queue_depth gauge",
      'pipedreamer_queue_depth{workflow="test-flow"} 0',
      "# TYPE pipedreamer_node_duration_seconds histogram",
      // prom-client puts "le" first.
      'pipedreamer_node_duration_seconds_bucket{le="+Inf",workflow="test-flow",node="a"} 2',
      'pipedreamer_node_duration_seconds_count{workflow="test-flow",node="a"} 2',
      'pipedreamer_node_duration_seconds_count{workflow="test-flow",node="b"} 1',
      // "ok": 1 attempt; "fail": 2 attempts (one retry).
      'pipedreamer_node_attempts_total{workflow="test-flow",node="a"} 3',
      'pipedreamer_node_failures_total{workflow="test-flow",node="a"} 1',
      "# TYPE pipedreamer_node_cache_hits_total counter",
    ];
    const lines = new Set(text.split("\n"));
    for (const line of expected) assert.ok(lines.has(line), `missing ${line} in\n${text}`);
    assert.ok(text.endsWith("\n"));
    // Every sample line belongs to a metric announced by a TYPE line before it.
    const typed = new Set<string>();
    for (const line of text.split("\n").filter(Boolean)) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary)$/.exec(line);
      if (type) typed.add(type[1]!);
      else if (!line.startsWith("# HELP ")) {
        const name = line.match(/^[a-z_0-9]+/)![0].replace(/_(bucket|sum|count)$/, "");
        assert.ok(typed.has(name) || typed.has(line.match(/^[a-z_0-9]+/)![0]), line);
      }
    }
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` prunes finished runs with workflow.retention, throttled", async () => {
  const h = await harness({ spec: { a: [] }, retention: { maxRuns: 2 } });
  try {
    for (let i = 0; i < 4; i++) await h.manager.runAndWait(i);
    // The first finished run pruned (nothing to delete); the next ones are within 60 s.
    assert.equal((await h.manager.listRuns({})).runs.length, 4);
    await h.clock.advance(60_000);
    const last = await h.manager.runAndWait(4);
    let count = 0;
    for (let turn = 0; turn < 100 && count !== 2; turn++) {
      count = (await h.manager.listRuns({})).runs.length;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.equal(count, 2);
    assert.deepEqual(h.errors, []);
    assert.equal((await h.manager.listRuns({})).runs[0]?.runId, last.runId);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.drain()` lets running runs finish within the grace period", async () => {
  const gates = gated(["a"]);
  const h = await harness({ spec: { a: [] }, fns: gates.fns });
  try {
    const { runId } = await h.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "the run to start");
    const drained = h.manager.drain(10_000);
    await assert.rejects(h.manager.submit(null), DrainingError);
    await h.clock.advance(5_000);
    gates.open(runId, "a");
    await drained;
    assert.equal((await h.store.getRun(runId))?.status, "succeeded");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.drain()` releases runs still running after the grace period (not cancelled); the next process resumes both", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: { maxRuns: 1, queueLimit: 5, strategy: "append", startDelayMs: 0 },
    manager: { owner: "old" },
  });
  try {
    const running = (await h.manager.submit(1)).runId;
    const waiting = (await h.manager.submit(2)).runId;
    await waitFor(() => gates.started.length === 1, "the first run to start");
    const waited = h.manager.wait(waiting).then(() => undefined, (error) => error);
    let drained = false;
    const drain = h.manager.drain(10_000).then(() => drained = true);
    await h.clock.advance(9_999);
    assert.equal(drained, false);
    await h.clock.advance(1);
    await drain;
    const stored = await h.store.getRun(running);
    assert.equal(stored?.status, "running", "only an explicit cancel cancels");
    assert.equal(stored?.nodes.a?.status, "running");
    assert.equal(stored?.error, undefined);
    assert.equal((await h.store.getRun(waiting))?.status, "queued");
    assert.ok((await waited) instanceof DrainingError);
    assert.equal(gates.started.length, 1);
    assert.deepEqual(await h.manager.recover(), { resumed: 0, requeued: 0 });

    // The next process (another owner id, not exclusive) picks both up at once: released.
    const next = await harness({ spec: { a: [] }, store: h.store, clock: h.clock });
    try {
      assert.deepEqual(await next.manager.recover(), { resumed: 1, requeued: 1 });
      assert.equal((await next.manager.wait(running)).status, "succeeded");
      assert.equal((await next.manager.wait(waiting)).status, "succeeded");
    } finally {
      await next.close();
    }
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.close()` releases what still runs (it stays resumable) and refuses new runs", async () => {
  const gates = gated(["a"]);
  const h = await harness({ spec: { a: [] }, fns: gates.fns });
  try {
    const { runId } = await h.manager.submit(null);
    await waitFor(() => gates.started.length === 1, "the run to start");
    await h.manager.close();
    assert.equal((await h.store.getRun(runId))?.status, "running");
    assert.equal((await h.store.listClaimable()).length, 1, "its lease was released");
    await assert.rejects(h.manager.submit(null), DrainingError);
    await h.manager.close();
  } finally {
    await h.close();
  }
});
