import assert from "node:assert/strict";
import { type CronTrigger } from "../engine/mod.ts";
import { FakeClock } from "../testing/mod.ts";
import { SqliteStore } from "../store/mod.ts";
import { CronScheduler, cronStateKey } from "./cron_scheduler.ts";
import { harness, testWorkflow, waitFor } from "./testdata/manager_harness.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function workflowWith(...triggers: CronTrigger[]) {
  return { ...testWorkflow({ spec: { a: [] } }), triggers };
}

async function setup(start: string, options: { catchUpMs?: number } = {}) {
  const clock = new FakeClock(Date.parse(start));
  const store = await SqliteStore.open(":memory:", { now: () => clock.now() });
  const fired: { at: string; input: unknown; by: string }[] = [];
  const errors: unknown[] = [];
  const scheduler = (name = "s") =>
    new CronScheduler({
      store,
      clock,
      catchUpMs: options.catchUpMs,
      onError: (error) => errors.push(error),
      submit: (input) => {
        fired.push({ at: new Date(clock.now()).toISOString(), input, by: name });
        return Promise.resolve();
      },
    });
  return { clock, store, fired, errors, scheduler };
}

Deno.test("`CronScheduler` fires a trigger at each tick with its input", async () => {
  const t = await setup("2025-01-01T08:59:00Z");
  const cron = t.scheduler();
  try {
    cron.schedule(workflowWith({ type: "cron", schedule: "0 9 * * *", input: { x: 1 } }));
    await t.clock.advance(MINUTE - 1);
    assert.equal(t.fired.length, 0);
    await t.clock.advance(1);
    assert.deepEqual(t.fired.map((f) => [f.at, f.input]), [["2025-01-01T09:00:00.000Z", {
      x: 1,
    }]]);
    await t.clock.advance(24 * HOUR);
    assert.deepEqual(t.fired.map((f) => f.at), [
      "2025-01-01T09:00:00.000Z",
      "2025-01-02T09:00:00.000Z",
    ]);
    assert.equal(
      await t.store.getState(cronStateKey("test-flow", { type: "cron", schedule: "0 9 * * *" })),
      "2025-01-02T09:00:00.000Z",
    );
    assert.deepEqual(t.errors, []);
  } finally {
    cron.stop();
    await cron.settled();
    await t.store.close();
  }
});

Deno.test("`CronScheduler` reads the schedule in the trigger's time zone", async () => {
  const table = [
    { timezone: undefined, utc: "2025-01-15T09:00:00.000Z" },
    { timezone: "Europe/Paris", utc: "2025-01-15T08:00:00.000Z" },
    { timezone: "America/New_York", utc: "2025-01-15T14:00:00.000Z" },
    { timezone: "Asia/Kolkata", utc: "2025-01-15T03:30:00.000Z" },
  ];
  for (const { timezone, utc } of table) {
    const t = await setup("2025-01-15T00:00:00Z");
    const cron = t.scheduler();
    try {
      cron.schedule(workflowWith({ type: "cron", schedule: "0 9 * * *", timezone }));
      await t.clock.advance(Date.parse(utc) - t.clock.now() - 1);
      assert.equal(t.fired.length, 0, `${timezone}: too early`);
      await t.clock.advance(1);
      assert.deepEqual(t.fired.map((f) => f.at), [utc], `${timezone}`);
    } finally {
      cron.stop();
      await cron.settled();
      await t.store.close();
    }
  }
});

Deno.test("`CronScheduler` never fires a tick twice across two schedulers sharing a store", async () => {
  const t = await setup("2025-01-01T08:59:30Z");
  const one = t.scheduler("one");
  const two = t.scheduler("two");
  try {
    const workflow = workflowWith({ type: "cron", schedule: "* * * * *" });
    one.schedule(workflow);
    two.schedule(workflow);
    await t.clock.advance(3 * MINUTE);
    assert.deepEqual(t.fired.map((f) => f.at), [
      "2025-01-01T09:00:00.000Z",
      "2025-01-01T09:01:00.000Z",
      "2025-01-01T09:02:00.000Z",
    ]);
  } finally {
    one.stop();
    two.stop();
    await Promise.all([one.settled(), two.settled()]);
    await t.store.close();
  }
});

Deno.test("`CronScheduler` does not fire a tick again after a restart", async () => {
  const t = await setup("2025-01-01T08:59:00Z");
  const workflow = workflowWith({ type: "cron", schedule: "0 9 * * *" });
  const before = t.scheduler("before");
  before.schedule(workflow);
  await t.clock.advance(MINUTE);
  before.stop();
  await before.settled();
  assert.equal(t.fired.length, 1);
  // The restarted process comes up 30 s after the tick, within the catch-up window.
  await t.clock.advance(30_000);
  const after = t.scheduler("after");
  try {
    after.schedule(workflow);
    await t.clock.advance(HOUR);
    assert.deepEqual(t.fired.map((f) => f.at), ["2025-01-01T09:00:00.000Z"]);
  } finally {
    after.stop();
    await after.settled();
    await t.store.close();
  }
});

Deno.test("`CronScheduler` replays at most the most recent tick missed while down", async () => {
  const trigger: CronTrigger = { type: "cron", schedule: "0 9 * * *" };
  const table = [
    {
      name: "missed 2 min ago",
      last: "2024-12-31T09:00:00.000Z",
      start: "2025-01-01T09:02:00Z",
      fired: ["2025-01-01T09:02:00.000Z"],
    },
    {
      name: "missed beyond the window",
      last: "2024-12-31T09:00:00.000Z",
      start: "2025-01-01T09:10:00Z",
      fired: [],
    },
    { name: "never fired before", last: undefined, start: "2025-01-01T09:02:00Z", fired: [] },
    {
      name: "already fired",
      last: "2025-01-01T09:00:00.000Z",
      start: "2025-01-01T09:02:00Z",
      fired: [],
    },
  ];
  for (const row of table) {
    const t = await setup(row.start);
    const cron = t.scheduler();
    try {
      if (row.last) await t.store.setState(cronStateKey("test-flow", trigger), row.last);
      cron.schedule(workflowWith(trigger));
      // The replay reads the store before it fires: let it fire before time moves on.
      await waitFor(() => t.fired.length >= row.fired.length, `${row.name}: the replay`);
      await t.clock.advance(HOUR);
      assert.deepEqual(t.fired.map((f) => f.at), row.fired, row.name);
      cron.schedule(workflowWith(trigger));
      await t.clock.advance(HOUR);
      assert.deepEqual(t.fired.map((f) => f.at), row.fired, `${row.name}: reschedule`);
    } finally {
      cron.stop();
      await cron.settled();
      await t.store.close();
    }
  }
});

Deno.test("`CronScheduler.schedule()` rejects an invalid time zone and keeps the old schedule", async () => {
  const t = await setup("2025-01-01T08:59:00Z");
  const cron = t.scheduler();
  try {
    cron.schedule(workflowWith({ type: "cron", schedule: "0 9 * * *" }));
    assert.throws(
      () =>
        cron.schedule(workflowWith({ type: "cron", schedule: "0 9 * * *", timezone: "Mars/Base" })),
      RangeError,
    );
    await t.clock.advance(MINUTE);
    assert.equal(t.fired.length, 1);
  } finally {
    cron.stop();
    await cron.settled();
    await t.store.close();
  }
});

Deno.test("`RunManager.startTriggers()` starts cron runs; reload reschedules; drain stops them", async () => {
  const h = await harness({
    spec: { a: [] },
    clock: new FakeClock(Date.parse("2025-01-01T08:59:00Z")),
  });
  try {
    h.manager.reload(
      workflowWith({ type: "cron", schedule: "0 9 * * *", input: { from: "cron" } }),
    );
    h.manager.startTriggers();
    h.manager.startTriggers();
    await h.clock.advance(MINUTE);
    await waitFor(() => h.runner.calls.length === 1, "the cron run");
    const [run] = (await h.manager.listRuns({})).runs;
    assert.equal(run?.trigger, "cron");
    assert.deepEqual(run?.input, { from: "cron" });
    assert.equal((await h.manager.wait(run!.runId)).status, "succeeded");

    h.manager.reload(workflowWith({ type: "cron", schedule: "30 9 * * *" }));
    await h.clock.advance(30 * MINUTE);
    await waitFor(() => h.runner.calls.length === 2, "the rescheduled cron run");
    const runs = (await h.manager.listRuns({})).runs;
    assert.equal(runs.length, 2);
    assert.equal(runs[0]?.startedAt, "2025-01-01T09:30:00.000Z");

    await h.manager.drain(0);
    await h.clock.advance(24 * HOUR);
    assert.equal((await h.manager.listRuns({})).runs.length, 2);
    assert.deepEqual(h.errors, []);
  } finally {
    await h.close();
  }
});
