import assert from "node:assert/strict";
import {
  durationHtml,
  elapsed,
  formatDuration,
  formatJson,
  formatTime,
  isFinished,
  MAX_JSON_CHARS,
  shortId,
  STATUS_META,
  statusBadge,
} from "./format.ts";
import { textOf } from "./testdata/_markup.ts";

Deno.test("`formatDuration()` reads naturally at every scale", () => {
  const table: [number | undefined, string][] = [
    [undefined, "—"],
    [-1, "—"],
    [Number.NaN, "—"],
    [0, "0 ms"],
    [850.4, "850 ms"],
    [1000, "1.0 s"],
    [12_345, "12.3 s"],
    [59_999, "59.9 s"],
    [65_000, "1 min 05 s"],
    [3_599_000, "59 min 59 s"],
    [3_600_000, "1 h 00 min"],
    [7_380_000, "2 h 03 min"],
  ];
  for (const [ms, text] of table) assert.equal(formatDuration(ms), text, String(ms));
});

Deno.test("`formatTime()` shows local date and time, and a dash for nothing", () => {
  const iso = new Date(2025, 0, 2, 3, 4, 5).toISOString();
  assert.equal(formatTime(iso), "2025-01-02 03:04:05");
  assert.equal(formatTime(undefined), "—");
  assert.equal(formatTime("not a date"), "—");
});

Deno.test("`statusBadge()` shows a symbol and the word for every status", () => {
  for (const [status, meta] of Object.entries(STATUS_META)) {
    const badge = statusBadge(status).value;
    assert.match(badge, new RegExp(`class="badge status-${status}"`));
    assert.equal(textOf(badge), `${meta.symbol} ${meta.label}`);
    assert.match(badge, /aria-hidden="true"/, "the symbol is decoration for screen readers");
  }
  assert.equal(textOf(statusBadge("<weird>")), "? <weird>");
  assert.match(statusBadge("<weird>").value, /status-unknown/);
});

Deno.test("`elapsed()` and `durationHtml()` tick only while running", () => {
  const startedAt = "2025-01-01T00:00:00.000Z";
  const now = Date.parse(startedAt) + 4_200;
  assert.equal(elapsed({ status: "running", startedAt }, now), 4_200);
  assert.equal(elapsed({ status: "succeeded", startedAt, durationMs: 10 }, now), 10);
  assert.equal(elapsed({ status: "queued" }, now), undefined);
  assert.match(
    durationHtml({ status: "running", startedAt }, now).value,
    /class="live-duration" data-started="2025-01-01T00:00:00.000Z">4.2 s</,
  );
  assert.equal(durationHtml({ status: "failed", startedAt, durationMs: 1500 }, now).value, "1.5 s");
});

Deno.test("`isFinished()`, `shortId()` and `formatJson()`", () => {
  assert.deepEqual(
    ["queued", "running", "succeeded", "failed", "cancelled", "skipped"].map(isFinished),
    [false, false, true, true, true, true],
  );
  assert.equal(shortId("0b9f1c2e-1111-2222-3333-444455556666"), "0b9f1c2e");
  assert.equal(shortId("run-7"), "run-7");
  assert.equal(formatJson({ a: [1] }), '{\n  "a": [\n    1\n  ]\n}');
  assert.equal(formatJson(undefined), "(none)");
  const big = formatJson("x".repeat(MAX_JSON_CHARS + 10));
  assert.match(big, /… \(12 more characters\)$/);
});
