import assert from "node:assert/strict";
import { startTimer, systemClock } from "./_clock.ts";
import { FakeClock } from "../../testing/mod.ts";

Deno.test("`systemClock.sleep()` resolves and rejects with the abort reason", async () => {
  await systemClock.sleep(1);
  const controller = new AbortController();
  const sleeping = systemClock.sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(sleeping, /stop/);
  await assert.rejects(systemClock.sleep(1, AbortSignal.abort(new Error("early"))), /early/);
});

Deno.test("`startTimer()` fires once and can be cancelled on any clock", async () => {
  const clock = new FakeClock();
  let fired = 0;
  startTimer(clock, 100, () => fired++);
  const cancel = startTimer(clock, 100, () => fired += 10);
  cancel();
  await clock.advance(100);
  assert.equal(fired, 1);
  let system = 0;
  const cancelSystem = startTimer(systemClock, 60_000, () => system++);
  cancelSystem();
  await new Promise<void>((resolve) => startTimer(systemClock, 1, resolve));
  assert.equal(system, 0);
});
