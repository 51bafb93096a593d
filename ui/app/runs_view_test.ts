import assert from "node:assert/strict";
import type { RunSummary } from "../../store/mod.ts";
import {
  inDateRange,
  previewJson,
  renderPager,
  renderRunsFilter,
  renderRunsSearch,
  renderRunsTable,
} from "./runs_view.ts";
import { attr, rowsWith, tagsWith, textOf } from "./testdata/_markup.ts";

const NOW = Date.parse("2025-03-01T12:00:10.000Z");
const RUNS: RunSummary[] = [
  {
    runId: "0b9f1c2e-1111-2222-3333-444455556666",
    workflow: "w",
    version: "1.2.0",
    status: "running",
    input: {},
    trigger: "cron",
    startedAt: "2025-03-01T12:00:00.000Z",
  },
  {
    runId: "run-<2>",
    workflow: "w",
    version: "1.1.0",
    status: "failed",
    input: { repo: "pipedreamer", issue: 15 },
    trigger: "manual",
    startedAt: "2025-03-01T11:00:00.000Z",
    durationMs: 65_000,
    error: { node: "fetch", message: "HTTP <503> from the API" },
  },
];

Deno.test("`renderRunsTable()` shows status, trigger, start, duration, input, error and version", () => {
  const table = renderRunsTable(RUNS, { now: NOW }).value;
  const rows = rowsWith(table, "data-run").map(textOf);
  assert.equal(rows.length, 2);
  assert.match(
    rows[0]!,
    /◐ running 0b9f1c2e cron \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 10\.0 s \{\} — 1\.2\.0$/,
  );
  assert.match(
    rows[1]!,
    /✕ failed run-<2> manual .* 1 min 05 s \{"repo":"pipedreamer","issue":15\} fetch: HTTP <503> from the API 1\.1\.0$/,
  );
  const links = tagsWith(table, "href");
  assert.deepEqual(links.map((l) => attr(l, "href")), [
    "#/runs/0b9f1c2e-1111-2222-3333-444455556666",
    "#/runs/run-%3C2%3E",
  ]);
  assert.match(table, /<th scope="col">Status<\/th>/);
  assert.match(table, /class="live-duration"/, "the running duration does not tick");
});

Deno.test("`renderRunsTable()` explains an empty list", () => {
  assert.match(textOf(renderRunsTable([], { now: NOW })), /No runs yet/);
  assert.match(textOf(renderRunsTable([], { now: NOW, status: "failed" })), /No failed runs\./);
});

Deno.test("`renderRunsFilter()` is a labelled select with the current status chosen", () => {
  const filter = renderRunsFilter("failed").value;
  assert.match(filter, /<label for="status-filter">Status<\/label>/);
  assert.deepEqual(tagsWith(filter, "value").map((t) => attr(t, "value")), [
    "",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
  ]);
  assert.deepEqual(tagsWith(filter, "value").map((t) => /\sselected/.test(t)), [
    false,
    false,
    false,
    false,
    true,
    false,
  ]);
  assert.match(tagsWith(renderRunsFilter(undefined), "value", "")[0]!, /\sselected/);
});

Deno.test("`renderPager()` links to newer and older pages and disables the missing ones", () => {
  const first = renderPager({ nextCursor: "c2" }).value;
  assert.deepEqual(tagsWith(first, "href").map((t) => attr(t, "href")), ["#/?cursor=c2"]);
  assert.equal(tagsWith(first, "aria-disabled", "true").length, 1);
  const middle = renderPager({ status: "failed", cursor: "c2", newerCursor: "", nextCursor: "c3" });
  assert.deepEqual(tagsWith(middle, "href").map((t) => attr(t, "href")), [
    "#/?status=failed",
    "#/?status=failed&cursor=c3",
  ]);
  const last = renderPager({ cursor: "c3", newerCursor: "c2" }).value;
  assert.deepEqual(tagsWith(last, "href").map((t) => attr(t, "href")), ["#/?cursor=c2"]);
  assert.match(textOf(last), /← Newer Older →/);
});

Deno.test("`previewJson()` cuts long inputs; `inDateRange()` filters by local start day", () => {
  assert.equal(previewJson({ a: 1 }), '{"a":1}');
  const long = previewJson({ text: "x".repeat(100) });
  assert.equal(long.length, 60);
  assert.ok(long.endsWith("…"));
  assert.equal(previewJson(undefined), "—");
  const run = RUNS[1]!;
  const day = new Date(run.startedAt!);
  const local = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${
    String(day.getDate()).padStart(2, "0")
  }`;
  assert.equal(inDateRange(run, "", ""), true);
  assert.equal(inDateRange(run, local, local), true);
  assert.equal(inDateRange(run, "2999-01-01", ""), false);
  assert.equal(inDateRange(run, "", "1999-01-01"), false);
  assert.equal(inDateRange({ ...run, startedAt: undefined }, local, ""), false);
  const search = renderRunsSearch().value;
  assert.deepEqual(tagsWith(search, "id").map((t) => attr(t, "id")), [
    "run-search",
    "since",
    "until",
  ]);
});
