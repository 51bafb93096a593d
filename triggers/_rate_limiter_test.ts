import assert from "node:assert/strict";
import { FakeClock } from "../testing/mod.ts";
import { RateLimiter } from "./_rate_limiter.ts";

Deno.test("`RateLimiter` spaces starts evenly: 10/s allows one every 100ms", async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ count: 10, perMs: 1_000 }, clock);
  assert.equal(limiter.tryTake(), true);
  assert.equal(limiter.tryTake(), false);
  assert.equal(limiter.waitMs(), 100);
  await clock.advance(99);
  assert.equal(limiter.tryTake(), false);
  await clock.advance(1);
  assert.equal(limiter.tryTake(), true);
});

Deno.test("`RateLimiter` allows `burst` starts back to back, then refills", async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ count: 600, perMs: 60_000 }, clock, { burst: 3 });
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.tryTake()), [true, true, true, false]);
  await clock.advance(10_000); // refills at most to the burst
  assert.equal(limiter.available(), 3);
});

Deno.test("`RateLimiter.ready()` waits on the clock until a token is there", async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ count: 2, perMs: 1_000 }, clock);
  limiter.tryTake();
  let ready = false;
  const waiting = limiter.ready().then(() => ready = true);
  await clock.waitForSleepers(1);
  assert.deepEqual(clock.sleeps, [500]);
  await clock.advance(499);
  assert.equal(ready, false);
  await clock.advance(1);
  await waiting;
  assert.equal(limiter.tryTake(), true);
});

Deno.test("`RateLimiter.ready()` rejects when its signal aborts", async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ count: 1, perMs: 1_000 }, clock);
  limiter.tryTake();
  const controller = new AbortController();
  const waiting = limiter.ready(controller.signal);
  await clock.waitForSleepers(1);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
});

for (
  const [rate, burst] of [
    [{ count: 0, perMs: 1_000 }, 1],
    [{ count: 1, perMs: 0 }, 1],
    [{ count: 1, perMs: 1_000 }, 0],
  ] as const
) {
  Deno.test(`\`RateLimiter\` rejects ${rate.count}/${rate.perMs}ms with burst ${burst}`, () => {
    assert.throws(() => new RateLimiter(rate, new FakeClock(), { burst }), RangeError);
  });
}
