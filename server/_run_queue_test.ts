import assert from "node:assert/strict";
import type { ConcurrencySettings } from "../engine/mod.ts";
import { RunQueue, ScheduleAction, UNLIMITED_CONCURRENCY } from "./_run_queue.ts";

function queue(settings: Partial<ConcurrencySettings>, waiting = 0): RunQueue<null> {
  const q = new RunQueue<null>({
    maxRuns: 2,
    queueLimit: 2,
    strategy: "append",
    startDelayMs: 0,
    ...settings,
  });
  for (let i = 0; i < waiting; i++) q.push({ id: `w${i}`, readyAt: 0, value: null });
  return q;
}

Deno.test("`RunQueue.decide()` follows prunner's rules", () => {
  const table: {
    name: string;
    settings: Partial<ConcurrencySettings>;
    running: number;
    waiting: number;
    action: ScheduleAction;
  }[] = [
    { name: "free slot", settings: {}, running: 1, waiting: 0, action: "start" },
    { name: "slots full", settings: {}, running: 2, waiting: 0, action: "queue" },
    { name: "free slot but someone waits", settings: {}, running: 1, waiting: 1, action: "queue" },
    { name: "wait list full", settings: {}, running: 2, waiting: 2, action: "reject" },
    { name: "queueLimit 0", settings: { queueLimit: 0 }, running: 2, waiting: 0, action: "reject" },
    {
      name: "start delay always waits",
      settings: { startDelayMs: 10 },
      running: 0,
      waiting: 0,
      action: "queue",
    },
    {
      name: "start delay, queueLimit 0",
      settings: { startDelayMs: 10, queueLimit: 0 },
      running: 0,
      waiting: 0,
      action: "reject",
    },
    {
      name: "replace someone waiting",
      settings: { strategy: "replace" },
      running: 2,
      waiting: 2,
      action: "replace",
    },
    {
      name: "replace, nobody waiting",
      settings: { strategy: "replace" },
      running: 2,
      waiting: 0,
      action: "queue",
    },
  ];
  for (const row of table) {
    assert.equal(queue(row.settings, row.waiting).decide(row.running), row.action, row.name);
  }
});

Deno.test("`RunQueue` keeps arrival order, replaces the newest and honours readyAt", () => {
  const q = queue({});
  q.push({ id: "a", readyAt: 10, value: null });
  q.push({ id: "b", readyAt: 20, value: null });
  assert.equal(q.replaceNewest({ id: "c", readyAt: 30, value: null }).id, "b");
  assert.deepEqual(q.ids(), ["a", "c"]);
  assert.equal(q.nextReadyAt(), 10);
  assert.equal(q.takeReady(9, 0), undefined);
  assert.equal(q.takeReady(10, 2), undefined, "no free slot");
  assert.equal(q.takeReady(10, 1)?.id, "a");
  assert.equal(q.remove("c")?.id, "c");
  assert.equal(q.remove("c"), undefined);
  assert.equal(q.size, 0);
  assert.throws(() => q.replaceNewest({ id: "d", readyAt: 0, value: null }), TypeError);
});

Deno.test("`RunQueue` without settings is effectively unlimited", () => {
  const q = new RunQueue<null>(undefined);
  assert.deepEqual(q.settings, UNLIMITED_CONCURRENCY);
  assert.equal(q.decide(99), ScheduleAction.Start);
  assert.equal(q.decide(100), ScheduleAction.Queue);
});
