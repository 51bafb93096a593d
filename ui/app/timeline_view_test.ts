import assert from "node:assert/strict";
import type { RunRecord } from "../../engine/mod.ts";
import { buildTimeline, renderTimeline } from "./timeline_view.ts";
import { attr, tagsWith, textOf } from "./testdata/_markup.ts";

const T0 = Date.parse("2025-03-01T12:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

const RECORD: RunRecord = {
  runId: "r2",
  workflow: "w",
  version: "1.0.0",
  status: "succeeded",
  input: {},
  startedAt: at(0),
  finishedAt: at(2000),
  retryOf: "r1",
  nodes: {
    first: { status: "succeeded", attempts: 1, output: 1, reusedFrom: "r1-aaaaaaaa" },
    middle: {
      status: "succeeded",
      attempts: 2,
      history: [
        {
          attempt: 1,
          status: "failed",
          startedAt: at(100),
          finishedAt: at(600),
          error: { message: "HTTP 503" },
        },
        { attempt: 2, status: "succeeded", startedAt: at(800), finishedAt: at(1500) },
      ],
    },
    cached: {
      status: "succeeded",
      attempts: 0,
      cached: true,
      startedAt: at(100),
      finishedAt: at(101),
    },
    last: {
      status: "running",
      attempts: 1,
      history: [{ attempt: 1, status: "running", startedAt: at(1500) }],
    },
    never: { status: "skipped", attempts: 0 },
  },
};

Deno.test("`buildTimeline()` makes a bar per attempt, a wait per retry gap, and marks reuse", () => {
  const timeline = buildTimeline(RECORD, ["first", "middle", "cached", "last", "never"], T0 + 1800);
  assert.deepEqual(timeline.rows, ["first", "middle", "cached", "last"]);
  assert.deepEqual(
    timeline.bars.map((b) => [b.node, b.attempt, b.status, b.start, b.end, b.open]),
    [
      ["middle", 1, "failed", 100, 600, false],
      ["middle", 2, "succeeded", 800, 1500, false],
      ["cached", 0, "succeeded", 100, 101, false],
      ["last", 1, "running", 1500, 1800, true],
    ],
  );
  assert.deepEqual(timeline.waits, [{ node: "middle", start: 600, end: 800 }]);
  assert.deepEqual(timeline.reused, { first: "r1-aaaaaaaa" });
  assert.equal(timeline.total, 2000);
  assert.equal(timeline.bars[0]!.error, "HTTP 503");
});

Deno.test("`renderTimeline()` draws bars with titles, hatched waits and a duration axis", () => {
  const svg = renderTimeline(buildTimeline(RECORD, ["first", "middle", "last"], T0 + 1800)).value;
  const bars = tagsWith(svg, "data-attempt");
  // Nodes of the record outside the order given ("cached") come last.
  assert.equal(bars.length, 4);
  assert.match(attr(bars[0]!, "class")!, /tl-failed/);
  // 640 px for 2000 ms after a 160 px label column: attempt 1 spans 100..600 ms.
  assert.equal(attr(bars[0]!, "x"), "192");
  assert.equal(attr(bars[0]!, "width"), "160");
  // Titles (hover text) carry attempt, status, duration and error.
  assert.match(svg, /<title>middle attempt 1: failed, 500 ms — HTTP 503<\/title>/);
  assert.match(svg, /<title>middle: waited 200 ms before retrying<\/title>/);
  assert.match(svg, /<title>last attempt 1: running \(running\), 300 ms<\/title>/);
  const text = textOf(svg);
  assert.match(text, /reused from run r1-aaaaa/);
  assert.match(text, /2\.0 s/);
  assert.match(svg, /aria-label="Timeline of 4 nodes over 2\.0 s: 4 attempts, 1 waits"/);
  assert.match(textOf(renderTimeline(buildTimeline({ ...RECORD, nodes: {} }, [], T0))), /No node/);
});
