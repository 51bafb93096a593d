import assert from "node:assert/strict";
import type { RunRecord } from "../../engine/mod.ts";
import {
  logTime,
  renderHistory,
  renderLogLine,
  renderNodeDetail,
  renderRunData,
  renderRunHeader,
} from "./run_view.ts";
import { attr, rowsWith, tagsWith, textOf } from "./testdata/_markup.ts";

const NOW = Date.parse("2025-03-01T12:00:10.000Z");
const RECORD: RunRecord = {
  runId: "r1",
  workflow: "w",
  version: "1.0.0",
  status: "running",
  input: { repo: "x" },
  startedAt: "2025-03-01T12:00:00.000Z",
  trigger: "manual",
  codeHash: "abcdef0123456789",
  nodes: {},
};
const LINE = {
  seq: 3,
  ts: new Date(2025, 0, 2, 3, 4, 5, 67).toISOString(),
  level: "warn" as const,
  msg: "slow <api>",
  runId: "r1",
  node: "fetch",
  attempt: 2,
  fields: { status: 503 },
};

Deno.test("`renderRunHeader()` offers Cancel while running and Re-run once finished", () => {
  const running = renderRunHeader(RECORD, { now: NOW }).value;
  assert.deepEqual(
    tagsWith(running, "data-action").map((t) => / data-action="(\w+)"/.exec(t)![1]),
    ["cancel"],
  );
  assert.match(textOf(running), /Run r1 ◐ running Cancel run Trigger manual Version 1\.0\.0/);
  for (const status of ["succeeded", "failed", "cancelled"] as const) {
    const done = renderRunHeader({ ...RECORD, status, durationMs: 1500 }, { now: NOW }).value;
    assert.deepEqual(
      tagsWith(done, "data-action").map((t) => / data-action="([\w-]+)"/.exec(t)![1]),
      status === "succeeded" ? ["rerun"] : ["retry", "rerun"],
    );
    assert.match(textOf(done), /Duration 1\.5 s/);
    if (status !== "succeeded") assert.match(textOf(done), /Retry from failed node/);
  }
  const retried = renderRunHeader(
    { ...RECORD, status: "succeeded", retryOf: "abcdef12-3456", retryFrom: "fetch" },
    { now: NOW },
  ).value;
  assert.match(textOf(retried), /Retry of abcdef12 from fetch/);
});

Deno.test("`renderRunHeader()` shows the failure and notes an older code version", () => {
  const failed = renderRunHeader(
    { ...RECORD, status: "failed", error: { node: "fetch", message: "HTTP <503>" } },
    { now: NOW, currentCodeHash: "ffff" },
  );
  assert.match(textOf(failed), /Failed at node fetch: HTTP <503>/);
  assert.match(textOf(failed), /earlier version of the code/);
  const same = renderRunHeader(RECORD, { now: NOW, currentCodeHash: RECORD.codeHash });
  assert.doesNotMatch(textOf(same), /earlier version/);
});

Deno.test("`renderNodeDetail()` shows state, input, output, error with stack and logs", () => {
  const detail = renderNodeDetail("fetch", {
    status: "failed",
    attempts: 2,
    durationMs: 40,
    error: {
      name: "TypeError",
      message: "bad <json>",
      stack: "TypeError: bad\n    at run (fetch.ts:3)",
      capability: "net: api.example.com",
    },
  }, { input: { known: true, value: { repo: "x" } }, logs: [LINE], now: NOW });
  const text = textOf(detail);
  assert.match(text, /^Node fetch ✕ failed Attempts 2 Duration 40 ms/);
  assert.match(text, /Input \{ "repo": "x" \}/);
  assert.match(text, /Output No output\./);
  assert.match(text, /Error TypeError: bad <json>/);
  assert.match(text, /capabilities: net: api\.example\.com/);
  assert.ok(detail.value.includes("<pre>TypeError: bad\n    at run (fetch.ts:3)</pre>"));
  assert.match(text, /Log .*WARN slow <api>/);
});

Deno.test("`renderNodeDetail()` shows a succeeded node's output and cache hit", () => {
  const detail = renderNodeDetail("a", {
    status: "succeeded",
    attempts: 1,
    durationMs: 2,
    cached: true,
    output: { ok: true },
    routes: ["b"],
  }, {
    input: { known: false, reason: "its parent's output is not recorded" },
    logs: [],
    now: NOW,
  });
  const text = textOf(detail);
  assert.match(text, /Cache hit \(output reused\)/);
  assert.match(text, /Routed to b/);
  assert.match(text, /Not available: its parent's output is not recorded\./);
  assert.equal(tagsWith(detail, "data-testid", "node-output").length, 1);
  assert.ok(
    detail.value.includes("{\n  &quot;ok&quot;: true\n}</pre>"),
    "the output is not pretty JSON",
  );
  assert.match(text, /No log lines\./);
});

Deno.test("`renderLogLine()` tags the node and attempt in the run's log", () => {
  assert.equal(logTime(LINE.ts), "03:04:05.067");
  const withNode = renderLogLine(LINE, true);
  assert.equal(textOf(withNode), '03:04:05.067 WARN fetch#2 slow <api> {"status":503}');
  assert.equal(attr(tagsWith(withNode, "data-seq", "3")[0]!, "class"), "log-line level-warn");
  assert.equal(
    textOf(renderLogLine({ ...LINE, fields: undefined }, false)),
    "03:04:05.067 WARN slow <api>",
  );
});

Deno.test("`renderRunData()` shows the input, and the result once there is one", () => {
  assert.match(textOf(renderRunData(RECORD)), /^Run input \{ "repo": "x" \}$/);
  assert.match(textOf(renderRunData({ ...RECORD, result: 7 })), /Run result 7$/);
});

Deno.test("`renderNodeDetail()` lists every attempt with its error and offers Re-run from here", () => {
  const node = {
    status: "succeeded" as const,
    attempts: 2,
    output: 1,
    history: [
      {
        attempt: 1,
        status: "failed" as const,
        startedAt: "2025-03-01T12:00:00.000Z",
        finishedAt: "2025-03-01T12:00:00.250Z",
        error: { message: "HTTP <503>" },
      },
      {
        attempt: 2,
        status: "succeeded" as const,
        startedAt: "2025-03-01T12:00:00.450Z",
        finishedAt: "2025-03-01T12:00:01.450Z",
      },
    ],
  };
  const input = { known: true, value: {} } as const;
  const detail = renderNodeDetail("fetch", node, { input, logs: [], now: NOW, rerunFrom: true });
  const rows = rowsWith(detail.value, "data-attempt").map(textOf);
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /^1 ✕ failed .* 250 ms HTTP <503>$/);
  assert.match(rows[1]!, /^2 ✓ succeeded .* 1\.0 s$/);
  assert.deepEqual(
    tagsWith(detail.value, "data-action").map((t) => attr(t, "data-node")),
    ["fetch"],
  );
  const running = renderNodeDetail("fetch", node, { input, logs: [], now: NOW });
  assert.equal(tagsWith(running.value, "data-action").length, 0);
  assert.match(
    textOf(renderHistory({ ...node, reusedFrom: "r0-abcdef" })),
    /reused from run r0-abcde/,
  );
  assert.equal(renderHistory({ status: "pending", attempts: 0 }), "");
});
