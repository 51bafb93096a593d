import assert from "node:assert/strict";
import type { ConcurrencySettings } from "../engine/mod.ts";
import { KeyedQueue } from "./_keyed_queue.ts";
import { ScheduleAction } from "./_run_queue.ts";

type Run = { tenant?: string };

function queue(settings: Partial<ConcurrencySettings>): KeyedQueue<Run> {
  return new KeyedQueue<Run>({
    maxRuns: 1,
    queueLimit: 10,
    strategy: "append",
    startDelayMs: 0,
    key: "/tenant",
    ...settings,
  }, (run) => run);
}

/** Submits like the run manager: start at once, or wait. */
function submit(q: KeyedQueue<Run>, id: string, tenant?: string, now = 0): ScheduleAction {
  const value = tenant === undefined ? {} : { tenant };
  const action = q.decide(q.keyOf(value));
  if (action === ScheduleAction.Start) q.started(id, value);
  else if (action === ScheduleAction.Queue) q.push({ id, readyAt: now, value });
  else if (action === ScheduleAction.Replace) q.replaceNewest({ id, readyAt: now, value });
  return action;
}

/** Starts every run that may start now; returns their ids. */
function pump(q: KeyedQueue<Run>, now = 0): string[] {
  const ids: string[] = [];
  for (let e = q.takeReady(now); e; e = q.takeReady(now)) {
    q.started(e.id, e.value);
    ids.push(e.id);
  }
  return ids;
}

Deno.test("`KeyedQueue.decide()` applies maxRuns and queueLimit per key value", () => {
  const q = queue({ maxRuns: 1, queueLimit: 1 });
  assert.equal(submit(q, "a1", "a"), "start");
  assert.equal(submit(q, "b1", "b"), "start", "another key has its own slot");
  assert.equal(submit(q, "a2", "a"), "queue");
  assert.equal(submit(q, "a3", "a"), "reject", "a's wait list is full");
  assert.equal(submit(q, "b2", "b"), "queue", "b's wait list is its own");
  assert.deepEqual([q.running("a"), q.running("b"), q.running()], [1, 1, 2]);
  assert.deepEqual([q.waiting("a"), q.waiting("b"), q.size], [1, 1, 2]);
});

Deno.test("`KeyedQueue` maxRunsTotal caps all keys; queueLimit 0 then rejects", () => {
  const q = queue({ maxRuns: 2, maxRunsTotal: 2 });
  assert.equal(submit(q, "a1", "a"), "start");
  assert.equal(submit(q, "b1", "b"), "start");
  assert.equal(submit(q, "c1", "c"), "queue", "the total cap is reached");
  assert.deepEqual(pump(q), []);
  q.ended("a1");
  assert.deepEqual(pump(q), ["c1"]);
  const none = queue({ maxRuns: 1, maxRunsTotal: 1, queueLimit: 0 });
  assert.equal(submit(none, "a1", "a"), "start");
  assert.equal(submit(none, "b1", "b"), "reject");
});

Deno.test("`KeyedQueue` maxRunsTotal is ignored without a key", () => {
  const q = queue({ key: undefined, maxRuns: 3, maxRunsTotal: 1 });
  for (const id of ["x", "y", "z"]) assert.equal(submit(q, id, id), "start");
  assert.equal(q.keyOf({ tenant: "x" }), "");
});

Deno.test("`KeyedQueue` replace strategy replaces the newest waiting run of the same key only", () => {
  const q = queue({ strategy: "replace", queueLimit: 1 });
  submit(q, "a1", "a");
  submit(q, "b1", "b");
  assert.equal(submit(q, "a2", "a"), "queue");
  assert.equal(submit(q, "b2", "b"), "queue");
  const replaced = q.replaceNewest({ id: "a3", readyAt: 0, value: { tenant: "a" } });
  assert.equal(replaced.id, "a2");
  assert.equal(replaced.key, "a");
  assert.deepEqual(q.ids().sort(), ["a3", "b2"]);
});

Deno.test("`KeyedQueue` rotates free slots across waiting keys (no starvation)", () => {
  const q = queue({ maxRuns: 10, maxRunsTotal: 1, queueLimit: 100 });
  assert.equal(submit(q, "busy-0", "busy"), "start");
  for (let i = 1; i <= 20; i++) submit(q, `busy-${i}`, "busy");
  for (const key of ["k1", "k2", "k3"]) {
    submit(q, `${key}-a`, key);
    submit(q, `${key}-b`, key);
  }
  const order: string[] = [];
  let running = "busy-0";
  for (;;) {
    q.ended(running);
    const [next] = pump(q);
    if (!next) break;
    order.push(next);
    running = next;
  }
  assert.deepEqual(order.slice(0, 8), [
    "busy-1",
    "k1-a",
    "k2-a",
    "k3-a",
    "busy-2",
    "k1-b",
    "k2-b",
    "k3-b",
  ]);
  assert.deepEqual(order.slice(8), Array.from({ length: 18 }, (_, i) => `busy-${i + 3}`));
});

Deno.test("`KeyedQueue.takeReady()` skips keys at their maxRuns and honours readyAt per key", () => {
  const q = queue({ maxRuns: 1, startDelayMs: 100 });
  q.started("a0", { tenant: "a" });
  q.push({ id: "a1", readyAt: 50, value: { tenant: "a" } });
  q.push({ id: "b1", readyAt: 100, value: { tenant: "b" } });
  assert.equal(q.nextReadyAt(), 100, "a is busy: only b's time counts");
  assert.equal(q.takeReady(99), undefined);
  assert.equal(q.takeReady(100)?.id, "b1");
  q.ended("a0");
  assert.equal(q.nextReadyAt(), 50);
  assert.equal(q.takeReady(100)?.id, "a1");
  assert.equal(q.nextReadyAt(), undefined);
});

Deno.test("`KeyedQueue` puts runs without a key value in the empty key", () => {
  const q = queue({});
  assert.equal(submit(q, "n1"), "start");
  assert.equal(submit(q, "n2", ""), "queue", "an empty string is the same key as none");
  assert.equal(q.waiting(""), 1);
  assert.equal(q.remove("n2")?.key, "");
  assert.equal(q.remove("n2"), undefined);
  assert.equal(q.size, 0);
});

Deno.test("`KeyedQueue` settings with a new key pointer sort waiting runs again", () => {
  const q = new KeyedQueue<{ tenant: string; region: string }>({
    maxRuns: 1,
    queueLimit: 10,
    strategy: "append",
    startDelayMs: 0,
    key: "/tenant",
  }, (run) => run);
  q.push({ id: "1", readyAt: 0, value: { tenant: "a", region: "eu" } });
  q.push({ id: "2", readyAt: 0, value: { tenant: "b", region: "eu" } });
  assert.deepEqual([q.waiting("a"), q.waiting("b")], [1, 1]);
  q.settings = { ...q.settings, key: "/region" };
  assert.deepEqual([q.waiting("a"), q.waiting("eu")], [0, 2]);
  assert.deepEqual(q.clear().map((e) => e.id), ["1", "2"]);
});
