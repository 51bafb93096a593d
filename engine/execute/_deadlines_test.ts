import assert from "node:assert/strict";
import { addDeadline } from "./_deadlines.ts";

/** Resolves when `fire` is called, with the time it took. */
function deadline(ms: number): { fired: Promise<number>; cancel: () => void } {
  const started = performance.now();
  let cancel = () => {};
  const fired = new Promise<number>((resolve) => {
    cancel = addDeadline(ms, () => resolve(performance.now() - started));
  });
  return { fired, cancel };
}

Deno.test("`addDeadline()` fires once, no earlier than its delay", async () => {
  let calls = 0;
  const elapsed = await new Promise<number>((resolve) => {
    const started = performance.now();
    addDeadline(15, () => {
      calls++;
      resolve(performance.now() - started);
    });
  });
  assert.ok(elapsed >= 15, `fired after ${elapsed} ms`);
  // A later deadline of the same queue firing proves the first is not fired again.
  await deadline(15).fired;
  assert.equal(calls, 1);
});

Deno.test("`addDeadline()` skips cancelled entries and fires the live ones in order", async () => {
  const order: string[] = [];
  const cancelled = addDeadline(12, () => order.push("cancelled"));
  const first = new Promise<void>((resolve) =>
    addDeadline(12, () => resolve(void order.push("a")))
  );
  const second = new Promise<void>((resolve) =>
    addDeadline(12, () => resolve(void order.push("b")))
  );
  cancelled();
  cancelled(); // idempotent
  await Promise.all([first, second]);
  assert.deepEqual(order, ["a", "b"]);
});

Deno.test("`addDeadline()` keeps firing later entries when all earlier ones were cancelled", async () => {
  for (let i = 0; i < 2000; i++) addDeadline(11, () => assert.fail("cancelled entry fired"))();
  const { fired } = deadline(11);
  assert.ok(await fired >= 11);
});

Deno.test("`addDeadline()` lets a callback add and cancel deadlines of the same length", async () => {
  const log: string[] = [];
  let cancelLater = () => {};
  const done = new Promise<void>((resolve) => {
    addDeadline(13, () => {
      log.push("first");
      cancelLater();
      addDeadline(13, () => {
        log.push("added");
        resolve();
      });
    });
    cancelLater = addDeadline(13, () => log.push("cancelled by the first"));
  });
  await done;
  assert.deepEqual(log, ["first", "added"]);
});

Deno.test("`addDeadline()` keeps separate queues per delay", async () => {
  const slow = deadline(40);
  const fast = deadline(14);
  const winner = await Promise.race([
    slow.fired.then(() => "slow"),
    fast.fired.then(() => "fast"),
  ]);
  assert.equal(winner, "fast");
  assert.ok(await slow.fired >= 40);
});

Deno.test("`addDeadline()` reports a throwing callback as uncaught and still fires the next", async () => {
  const uncaught = new Promise<unknown>((resolve) => {
    const onError = (event: ErrorEvent) => {
      event.preventDefault();
      globalThis.removeEventListener("error", onError);
      resolve(event.error);
    };
    globalThis.addEventListener("error", onError);
  });
  addDeadline(16, () => {
    throw new Error("boom");
  });
  const next = deadline(16);
  assert.match(String(await uncaught), /boom/);
  assert.ok(await next.fired >= 16);
});
