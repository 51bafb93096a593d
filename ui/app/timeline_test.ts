import assert from "node:assert/strict";
import { layoutTimeline, tickStep, type TimelineRun } from "./timeline.ts";
import { fitTimelineLabel, renderTimelineSvg } from "./timeline_svg.ts";

const T0 = Date.parse("2025-01-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

const RETRIED: TimelineRun = {
  status: "succeeded",
  startedAt: at(0),
  finishedAt: at(10_000),
  nodes: {
    fetch: {
      status: "succeeded",
      attempts: 3,
      startedAt: at(0),
      finishedAt: at(6_000),
      history: [
        {
          attempt: 1,
          status: "failed",
          startedAt: at(0),
          finishedAt: at(1_000),
          error: { message: "HTTP 503" },
        },
        {
          attempt: 2,
          status: "failed",
          startedAt: at(2_000),
          finishedAt: at(3_000),
          error: { message: "HTTP 502" },
        },
        { attempt: 3, status: "succeeded", startedAt: at(5_000), finishedAt: at(6_000) },
      ],
    },
    post: { status: "succeeded", attempts: 1, startedAt: at(6_000), finishedAt: at(10_000) },
    cleanup: { status: "skipped", attempts: 0 },
  },
};

Deno.test("`layoutTimeline()` draws one bar per attempt of the history and the waits between them", () => {
  const layout = layoutTimeline(RETRIED, {
    order: ["fetch", "post", "cleanup"],
    now: T0 + 99_000,
    width: 1000,
  });
  assert.equal(layout.start, T0);
  assert.equal(layout.end, T0 + 10_000);
  const fetch = layout.rows[0]!;
  assert.equal(fetch.node, "fetch");
  assert.deepEqual(
    fetch.bars.map((b) => [b.kind, b.status, b.attempt, b.x, b.width, b.open]),
    [
      ["attempt", "failed", 1, 0, 100, false],
      ["retry-wait", "waiting", 2, 100, 100, false],
      ["attempt", "failed", 2, 200, 100, false],
      ["retry-wait", "waiting", 3, 300, 200, false],
      ["attempt", "succeeded", 3, 500, 100, false],
    ],
  );
  assert.match(fetch.bars[0]!.title, /^fetch · attempt 1 · failed · 1\.0 s\n.*\nHTTP 503$/s);
  // No history: one bar from the node's own start and finish.
  assert.deepEqual(
    layout.rows[1]!.bars.map((b) => [b.kind, b.status, b.attempt, b.x, b.width]),
    [["attempt", "succeeded", 1, 600, 400]],
  );
  assert.deepEqual(layout.rows[2], {
    node: "cleanup",
    status: "skipped",
    bars: [],
    note: "skipped",
  });
  assert.deepEqual(layout.ticks.map((t) => t.label).slice(0, 3), ["0", "+1.0 s", "+2.0 s"]);
  assert.equal(layout.ticks.at(-1)!.x, 1000);
});

Deno.test("`layoutTimeline()` keeps a running attempt and a pending retry open until now", () => {
  const run: TimelineRun = {
    status: "running",
    startedAt: at(0),
    nodes: {
      a: {
        status: "running",
        history: [{ attempt: 1, status: "running", startedAt: at(1_000) }],
      },
      b: {
        status: "running",
        history: [{ attempt: 1, status: "failed", startedAt: at(0), finishedAt: at(500) }],
      },
      c: { status: "running", attempts: 1, startedAt: at(2_000) },
    },
  };
  const layout = layoutTimeline(run, { order: ["a", "b", "c"], now: T0 + 4_000, width: 400 });
  assert.equal(layout.end, T0 + 4_000);
  const [a, b, c] = layout.rows;
  assert.deepEqual(a!.bars.map((x) => [x.kind, x.x, x.width, x.open]), [[
    "attempt",
    100,
    300,
    true,
  ]]);
  assert.deepEqual(
    b!.bars.map((x) => [x.kind, x.attempt, x.x, x.width, x.open]),
    [["attempt", 1, 0, 50, false], ["retry-wait", 2, 50, 350, true]],
  );
  assert.match(b!.bars[1]!.title, /waiting before attempt 2 · 3\.5 s so far/);
  assert.deepEqual(c!.bars.map((x) => [x.kind, x.x, x.width, x.open]), [[
    "attempt",
    200,
    200,
    true,
  ]]);
});

Deno.test("`layoutTimeline()` draws a waiting node as an open-ended wait bar", () => {
  const run: TimelineRun = {
    status: "waiting",
    startedAt: at(0),
    nodes: {
      build: { status: "succeeded", attempts: 1, startedAt: at(0), finishedAt: at(1_000) },
      approve: {
        status: "waiting",
        attempts: 0,
        startedAt: at(1_000),
        waitingFor: { event: "approval" },
      },
    },
  };
  const layout = layoutTimeline(run, { order: ["build", "approve"], now: T0 + 5_000, width: 500 });
  const approve = layout.rows[1]!;
  assert.deepEqual(
    approve.bars.map((x) => [x.kind, x.status, x.x, x.width, x.open]),
    [["waiting", "waiting", 100, 400, true]],
  );
  assert.match(approve.bars[0]!.title, /waiting for event "approval"/);
});

Deno.test("`layoutTimeline()` keeps instant attempts visible, lists unknown nodes last and survives an empty run", () => {
  const run: TimelineRun = {
    status: "failed",
    startedAt: at(0),
    finishedAt: at(1_000),
    nodes: {
      zero: { status: "failed", attempts: 1, startedAt: at(1_000), finishedAt: at(1_000) },
      extra: { status: "pending", attempts: 0 },
    },
  };
  const layout = layoutTimeline(run, { order: ["zero"], now: T0 + 9_000, width: 200 });
  assert.deepEqual(layout.rows.map((r) => r.node), ["zero", "extra"]);
  // At the right edge with the minimum width, inside the plot.
  assert.deepEqual(layout.rows[0]!.bars.map((b) => [b.x, b.width]), [[197, 3]]);
  assert.equal(layout.rows[1]!.note, "not started");
  const reused = layoutTimeline({
    status: "running",
    startedAt: at(0),
    nodes: {
      // Copied from the earlier run, times and history included: not drawn on this run's axis.
      a: {
        status: "succeeded",
        attempts: 1,
        reusedFrom: "0b9f1c2e-1111-2222-3333-444455556666",
        startedAt: at(-3_600_000),
        finishedAt: at(-3_599_000),
        history: [{
          attempt: 1,
          status: "succeeded",
          startedAt: at(-3_600_000),
          finishedAt: at(-3_599_000),
        }],
      },
      b: { status: "succeeded", attempts: 0, cached: true },
    },
  }, { order: ["a", "b"], now: T0 + 1_000, width: 100 });
  assert.deepEqual(reused.rows.map((r) => [r.note, r.bars.length]), [
    ["output reused from run 0b9f1c2e", 0],
    ["output from cache", 0],
  ]);
  assert.equal(reused.start, T0);

  const empty = layoutTimeline({ status: "queued", nodes: {} }, {
    order: ["a"],
    now: T0,
    width: 300,
  });
  assert.deepEqual(empty.rows, [{ node: "a", status: "pending", bars: [], note: "not started" }]);
  assert.deepEqual(empty.ticks, []);
});

Deno.test("`tickStep()` picks a round step that gives at most the wanted number of ticks", () => {
  assert.equal(tickStep(10_000, 10), 1_000);
  assert.equal(tickStep(10_000, 4), 5_000);
  assert.equal(tickStep(7, 10), 1);
  assert.equal(tickStep(3_600_000, 6), 600_000);
});

Deno.test("`renderTimelineSvg()` marks every attempt with its status and escapes node names", () => {
  const svg = renderTimelineSvg(
    {
      ...RETRIED,
      nodes: {
        ...RETRIED.nodes,
        "<b>evil</b>": { status: "failed", startedAt: at(1), finishedAt: at(2) },
      },
    },
    { order: ["fetch", "post"], now: T0, width: 900, selected: "post" },
  ).value;
  assert.equal(svg.match(/data-kind="attempt"/g)?.length, 5);
  assert.equal(svg.match(/data-kind="retry-wait"/g)?.length, 2);
  const failedBar = svg.match(/<g class="tl-bar tl-attempt status-failed"[^>]*>/)?.[0] ?? "";
  assert.match(failedBar, /data-node="fetch"/);
  assert.match(failedBar, /data-attempt="1"/);
  assert.match(svg, /class="tl-row selected[^"]*"\s+data-node="post"/);
  assert.ok(!svg.includes("<b>evil"));
  assert.ok(svg.includes("&lt;b&gt;evil"));
});

Deno.test("`fitTimelineLabel()` cuts long names with an ellipsis", () => {
  assert.equal(fitTimelineLabel("fetch"), "fetch");
  const long = fitTimelineLabel("a-very-long-node-name-that-goes-on-and-on");
  assert.ok(long.endsWith("…"));
  assert.ok(long.length * 7.4 <= 170 - 12 + 7.4);
});
