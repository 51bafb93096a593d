import assert from "node:assert/strict";
import type { ConcurrencySettings } from "../engine/mod.ts";
import { QueueFullError } from "./errors.ts";
import { gated, harness, testWorkflow, untilStatus, waitFor } from "./testdata/manager_harness.ts";

function concurrency(settings: Partial<ConcurrencySettings>): ConcurrencySettings {
  return { maxRuns: 1, queueLimit: 10, strategy: "append", startDelayMs: 0, ...settings };
}

/** Starts of node "a", as run ids in order. */
function starts(started: string[]): string[] {
  return started.map((s) => s.split(":")[0]!);
}

Deno.test("`RunManager` runs at most maxRuns at once; the others wait queued in the store", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: concurrency({ maxRuns: 2 }),
  });
  try {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await h.manager.submit(i)).runId);
    await waitFor(() => gates.started.length === 2, "two runs to start");
    await h.clock.advance(60_000);
    assert.equal(gates.started.length, 2);
    assert.deepEqual(h.manager.stats(), { queued: 1, running: 2 });
    assert.equal((await h.store.getRun(ids[2]!))?.status, "queued");
    assert.match(await h.manager.metrics(), /^pipedreamer_queue_depth\{workflow="test-flow"\} 1$/m);
    assert.match(
      await h.manager.metrics(),
      /^pipedreamer_runs_in_flight\{workflow="test-flow"\} 2$/m,
    );
    gates.open(ids[0]!, "a");
    await waitFor(() => gates.started.length === 3, "the third run to start");
    // The first two take their slots in submit order, but each run first creates its temp dir
    // (Deno.makeTempDir, finished by a thread pool): their nodes may begin in either order.
    assert.deepEqual(starts(gates.started).slice(0, 2).sort(), ids.slice(0, 2).sort());
    assert.equal(starts(gates.started)[2], ids[2]);
    gates.open(ids[1]!, "a");
    gates.open(ids[2]!, "a");
    for (const id of ids) assert.equal((await h.manager.wait(id)).status, "succeeded");
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.submit()` throws QueueFullError beyond queueLimit and stores nothing", async () => {
  const table: { name: string; settings: Partial<ConcurrencySettings>; accepted: number }[] = [
    { name: "queueLimit 2", settings: { queueLimit: 2 }, accepted: 3 },
    { name: "queueLimit 0", settings: { queueLimit: 0 }, accepted: 1 },
    { name: "queueLimit 1 replace", settings: { queueLimit: 1, strategy: "replace" }, accepted: 4 },
  ];
  for (const { name, settings, accepted } of table) {
    const gates = gated(["a"]);
    const h = await harness({
      spec: { a: [] },
      fns: gates.fns,
      concurrency: concurrency(settings),
    });
    try {
      let ok = 0;
      for (let i = 0; i < 4; i++) {
        try {
          await h.manager.submit(i);
          ok++;
        } catch (error) {
          assert.ok(error instanceof QueueFullError, `${name}: ${error}`);
          assert.match(error.message, /^Cannot (queue|start) a run of workflow "test-flow": /);
        }
      }
      assert.equal(ok, accepted, name);
      assert.equal((await h.manager.listRuns({})).runs.length, accepted, name);
    } finally {
      await h.close();
    }
  }
});

Deno.test("`RunManager` starts waiting runs in arrival order (strategy append)", async () => {
  const gates = gated(["a"]);
  const h = await harness({ spec: { a: [] }, fns: gates.fns, concurrency: concurrency({}) });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await h.manager.submit(i)).runId);
    for (const [i, id] of ids.entries()) {
      await waitFor(() => gates.started.length === i + 1, `run ${i} to start`);
      assert.equal(h.manager.stats().running, 1);
      gates.open(id, "a");
      await h.manager.wait(id);
    }
    assert.deepEqual(starts(gates.started), ids);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` strategy replace cancels the newest waiting run, which never starts", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: concurrency({ strategy: "replace", queueLimit: 1 }),
  });
  try {
    const running = (await h.manager.submit(1)).runId;
    await waitFor(() => gates.started.length === 1, "the first run to start");
    const replaced = (await h.manager.submit(2)).runId;
    const waiting = h.manager.wait(replaced);
    const latest = (await h.manager.submit(3)).runId;
    const cancelled = await waiting;
    assert.equal(cancelled.status, "cancelled");
    assert.equal((await h.store.getRun(replaced))?.status, "cancelled");
    assert.deepEqual((await h.store.getRun(replaced))?.error, {
      node: "",
      message: `Cancelled before it started: it was replaced by run "${latest}"`,
    });
    const logs = await h.store.getLogs(replaced);
    assert.match(logs[0]!.msg, new RegExp(`replaced by run "${latest}"`));
    assert.equal((await h.store.getRun(latest))?.status, "queued");
    gates.open(running, "a");
    await waitFor(() => gates.started.length === 2, "the latest run to start");
    gates.open(latest, "a");
    assert.equal((await h.manager.wait(latest)).status, "succeeded");
    assert.deepEqual(starts(gates.started), [running, latest]);
    assert.match(
      await h.manager.metrics(),
      /^pipedreamer_runs_total\{workflow="test-flow",status="cancelled"\} 1$/m,
    );
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.cancel()` of a waiting run: it never starts, the next one does", async () => {
  const gates = gated(["a"]);
  const h = await harness({ spec: { a: [] }, fns: gates.fns, concurrency: concurrency({}) });
  try {
    const first = (await h.manager.submit(1)).runId;
    const second = (await h.manager.submit(2)).runId;
    const third = (await h.manager.submit(3)).runId;
    await waitFor(() => gates.started.length === 1, "the first run to start");
    const record = await h.manager.cancel(second);
    assert.equal(record?.status, "cancelled");
    assert.equal(record?.startedAt, undefined);
    assert.equal((await h.manager.wait(second)).status, "cancelled");
    assert.deepEqual(h.manager.stats(), { queued: 1, running: 1 });
    gates.open(first, "a");
    await waitFor(() => gates.started.length === 2, "the third run to start");
    gates.open(third, "a");
    await h.manager.wait(third);
    assert.deepEqual(starts(gates.started), [first, third]);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` startDelay: a run waits the delay before it may start", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: concurrency({ maxRuns: 2, startDelayMs: 5_000 }),
  });
  try {
    const { runId } = await h.manager.submit(null);
    assert.equal((await h.store.getRun(runId))?.status, "queued");
    await h.clock.advance(4_999);
    assert.equal(gates.started.length, 0);
    assert.equal((await h.store.getRun(runId))?.status, "queued");
    await h.clock.advance(1);
    await waitFor(() => gates.started.length === 1, "the run to start after the delay");
    await untilStatus(h.store, runId, "running");
    gates.open(runId, "a");
    await h.manager.wait(runId);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager` startDelay with replace collapses a burst into its last run", async () => {
  const gates = gated(["a"]);
  const h = await harness({
    spec: { a: [] },
    fns: gates.fns,
    concurrency: concurrency({ strategy: "replace", queueLimit: 1, startDelayMs: 5_000 }),
  });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await h.manager.submit(i)).runId);
      await h.clock.advance(2_000);
    }
    // The last run arrived at t=4s: it may start at t=9s; the clock is at t=6s.
    await h.clock.advance(2_999);
    assert.equal(gates.started.length, 0);
    await h.clock.advance(1);
    await waitFor(() => gates.started.length === 1, "the last run to start");
    assert.deepEqual(starts(gates.started), [ids[2]]);
    const statuses = await Promise.all(ids.map(async (id) => (await h.store.getRun(id))?.status));
    assert.deepEqual(statuses, ["cancelled", "cancelled", "running"]);
    gates.open(ids[2]!, "a");
    await h.manager.wait(ids[2]!);
  } finally {
    await h.close();
  }
});

Deno.test("`RunManager.reload()` applies new concurrency settings to waiting runs", async () => {
  const gates = gated(["a"]);
  const h = await harness({ spec: { a: [] }, fns: gates.fns, concurrency: concurrency({}) });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.manager.submit(i)).runId);
    await waitFor(() => gates.started.length === 1, "one run");
    h.manager.reload({
      ...testWorkflow({ spec: { a: [] } }),
      concurrency: concurrency({ maxRuns: 3 }),
    });
    await waitFor(() => gates.started.length === 3, "every run to start");
    for (const id of ids) gates.open(id, "a");
    for (const id of ids) await h.manager.wait(id);
  } finally {
    await h.close();
  }
});
