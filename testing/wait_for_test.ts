import assert from "node:assert/strict";
import { waitFor } from "./wait_for.ts";

Deno.test("`waitFor()` resolves once a condition set by a later macrotask holds", async () => {
  let turns = 0;
  const ticking = setInterval(() => turns++, 0);
  try {
    await waitFor(() => turns >= 3, "three turns");
    assert.ok(turns >= 3);
  } finally {
    clearInterval(ticking);
  }
});

Deno.test("`waitFor()` awaits an async condition", async () => {
  let checks = 0;
  await waitFor(() => Promise.resolve(++checks === 2), "the second check");
  assert.equal(checks, 2);
});

Deno.test("`waitFor()` fails naming what it waited for once the deadline passes", async () => {
  await assert.rejects(
    waitFor(() => false, "the impossible", { timeoutMs: 20, intervalMs: 5 }),
    { message: "Cannot wait any longer for the impossible" },
  );
});
