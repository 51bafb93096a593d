import assert from "node:assert/strict";
import { FakeClock } from "./fake_clock.ts";

Deno.test("`FakeClock` resolves sleeps in due order as time advances", async () => {
  const clock = new FakeClock(1_000);
  const order: string[] = [];
  clock.sleep(300).then(() => order.push(`300@${clock.now()}`));
  clock.sleep(100).then(async () => {
    order.push(`100@${clock.now()}`);
    await clock.sleep(50);
    order.push(`150@${clock.now()}`);
  });
  await clock.advance(200);
  assert.deepEqual(order, ["100@1100", "150@1150"]);
  assert.equal(clock.now(), 1_200);
  assert.equal(clock.pending, 1);
  await clock.advance(100);
  assert.deepEqual(order, ["100@1100", "150@1150", "300@1300"]);
  assert.deepEqual(clock.sleeps, [300, 100, 50]);
});

Deno.test("`FakeClock` rejects an aborted sleep with the signal's reason", async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  const sleeping = clock.sleep(1_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(sleeping, /stop/);
  assert.equal(clock.pending, 0);
  await assert.rejects(clock.sleep(1, AbortSignal.abort(new Error("early"))), /early/);
});

Deno.test("`FakeClock.waitForSleepers()` resolves once enough sleeps are pending", async () => {
  const clock = new FakeClock();
  let waited = false;
  const waiting = clock.waitForSleepers(2).then(() => waited = true);
  clock.sleep(10);
  await Promise.resolve();
  assert.equal(waited, false);
  clock.sleep(20);
  await waiting;
  assert.equal(waited, true);
  await clock.advance(20);
});

Deno.test("`FakeClock.tick()` moves time at once and resolves the sleeps due by then", async () => {
  const clock = new FakeClock(0);
  const woken: number[] = [];
  clock.sleep(200).then(() => woken.push(200));
  clock.sleep(100).then(() => woken.push(100));
  clock.tick(150);
  assert.equal(clock.now(), 150);
  assert.equal(clock.pending, 1);
  assert.deepEqual(woken, [], "woken code runs after the current one");
  await Promise.resolve();
  assert.deepEqual(woken, [100]);
  clock.tick(50);
  await Promise.resolve();
  assert.deepEqual(woken, [100, 200]);
});
