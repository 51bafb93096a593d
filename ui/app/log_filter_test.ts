import assert from "node:assert/strict";
import { filterSummary, logLineMatches, renderLogFilter, RUN_LINES } from "./log_filter.ts";

const lines = [
  { node: "fetch", level: "debug" },
  { node: "fetch", level: "error" },
  { node: "post", level: "info" },
  { node: undefined, level: "warn" },
  { node: "post", level: "weird" },
] as const;

const pick = (filter: Parameters<typeof logLineMatches>[1]) =>
  lines.flatMap((line, i) => logLineMatches(line, filter) ? [i] : []);

Deno.test("`logLineMatches()` filters by node, by the run's own lines and by minimum level", () => {
  assert.deepEqual(pick({}), [0, 1, 2, 3, 4]);
  assert.deepEqual(pick({ node: "fetch" }), [0, 1]);
  assert.deepEqual(pick({ node: RUN_LINES }), [3]);
  assert.deepEqual(pick({ level: "info" }), [1, 2, 3, 4]);
  assert.deepEqual(pick({ level: "warn" }), [1, 3]);
  assert.deepEqual(pick({ level: "error" }), [1]);
  assert.deepEqual(pick({ node: "post", level: "warn" }), []);
  assert.deepEqual(pick({ node: "nope" }), []);
});

Deno.test("`renderLogFilter()` selects the current values and escapes node ids", () => {
  const markup = renderLogFilter(["fetch", "<x>"], { node: "fetch", level: "warn" }).value;
  assert.match(markup, /<option value="fetch"\s*selected\s*>fetch<\/option>/);
  assert.match(markup, /<option value="warn"\s*selected\s*>warn and above<\/option>/);
  assert.match(markup, /<option value="&lt;x&gt;"\s*>&lt;x&gt;<\/option>/);
  assert.equal(markup.match(/\sselected\b/g)?.length, 2);
});

Deno.test("`filterSummary()` counts shown lines only when filtering", () => {
  assert.equal(filterSummary(3, 3, {}), "");
  assert.equal(filterSummary(2, 5, { level: "warn" }), "2 of 5 lines shown");
  assert.equal(filterSummary(0, 1, { node: "a" }), "0 of 1 line shown");
});
