import assert from "node:assert/strict";
import { backoffDelay } from "./_backoff.ts";

Deno.test("`backoffDelay()` doubles per retry, applies jitter and caps the delay", () => {
  const table: { retry: number; random: number; want: number }[] = [
    { retry: 1, random: 0.5, want: 200 },
    { retry: 2, random: 0.5, want: 400 },
    { retry: 3, random: 0.5, want: 800 },
    { retry: 3, random: 0, want: 640 },
    { retry: 3, random: 0.75, want: 880 },
    { retry: 6, random: 0.5, want: 5_000 },
    { retry: 6, random: 0.99, want: 5_000 },
    { retry: 6, random: 0, want: 4_000 },
    { retry: 2_000, random: 0.5, want: 5_000 },
  ];
  for (const { retry, random, want } of table) {
    const got = backoffDelay(retry, { backoffMs: 200, maxBackoffMs: 5_000, random: () => random });
    assert.equal(got, want, `retry ${retry}, random ${random}`);
  }
});

Deno.test("`backoffDelay()` rejects a retry number below 1", () => {
  assert.throws(() => backoffDelay(0, { backoffMs: 1, maxBackoffMs: 1 }), RangeError);
});
