import assert from "node:assert/strict";
import { checkDuration, checkRate, formatDuration, parseDuration } from "./_duration.ts";

Deno.test("`parseDuration()` reads single units and combinations", () => {
  const table: [string, number][] = [
    ["500ms", 500],
    ["10s", 10_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["30d", 2_592_000_000],
    ["1h30m", 5_400_000],
    ["1m30.5s", 90_500],
    ["1d2h3m4s5ms", 93_784_005],
    ["0s", 0],
    ["1.5h", 5_400_000],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
});

Deno.test("`checkDuration()` explains what is wrong and how to fix it", () => {
  const table: [string, string, string][] = [
    ["10", 'Duration "10" has no unit', 'Add a unit, e.g. "10s" or "10ms"'],
    ["10S", 'Invalid duration "10S"', 'Write units in lower case: "10s"'],
    ["10 s", 'Invalid duration "10 s"', '"500ms", "10s", "1h30m"'],
    ["30m1h", "units must go from largest to smallest", '"1h30m"'],
    ["1m1m", "units must go from largest to smallest", '"1h30m"'],
    ["", "Duration is empty", "ms, s, m, h, d"],
    ["-5s", 'Invalid duration "-5s"', "ms, s, m, h, d"],
    ["1w", 'Invalid duration "1w"', "ms, s, m, h, d"],
  ];
  for (const [text, message, hint] of table) {
    const result = checkDuration(text);
    assert.ok(typeof result !== "number", text);
    assert.ok(result.message.includes(message), `${text}: ${result.message}`);
    assert.ok(result.hint.includes(hint), `${text}: ${result.hint}`);
  }
});

Deno.test("`parseDuration()` throws a RangeError with the fix", () => {
  assert.throws(() => parseDuration("10"), {
    name: "RangeError",
    message: 'Cannot parse duration: Duration "10" has no unit. Add a unit, e.g. "10s" or "10ms"',
  });
});

Deno.test("`formatDuration()` writes the shortest duration text", () => {
  const table: [number, string][] = [[0, "0s"], [500, "500ms"], [90_000, "1m30s"], [
    93_784_005,
    "1d2h3m4s5ms",
  ]];
  for (const [ms, text] of table) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseDuration(text), ms);
  }
});

Deno.test("`checkRate()` reads count per unit or per duration", () => {
  assert.deepEqual(checkRate("10/s"), { count: 10, perMs: 1_000 });
  assert.deepEqual(checkRate("600/m"), { count: 600, perMs: 60_000 });
  assert.deepEqual(checkRate("5/h"), { count: 5, perMs: 3_600_000 });
  assert.deepEqual(checkRate("1/d"), { count: 1, perMs: 86_400_000 });
  assert.deepEqual(checkRate("100/10s"), { count: 100, perMs: 10_000 });
  for (const bad of ["10", "0/s", "10/sec", "x/s", "10/0s", "1.5/s"]) {
    const result = checkRate(bad);
    assert.ok("message" in result, bad);
    assert.match(result.hint, /"10\/s"/);
  }
});
