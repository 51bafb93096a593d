import assert from "node:assert/strict";
import type { RunSummary } from "../../store/mod.ts";
import {
  errorPreview,
  inputPreview,
  localDayStart,
  matchesSearch,
  renderPager,
  renderRunsFilter,
  renderRunsTable,
  searchParams,
} from "./runs_view.ts";
import { attr, rowsWith, tagsWith, textOf } from "./testdata/_markup.ts";

const NOW = Date.parse("2025-03-01T12:00:10.000Z");
const RUNS: RunSummary[] = [
  {
    runId: "0b9f1c2e-1111-2222-3333-444455556666",
    workflow: "w",
    version: "1.2.0",
    status: "running",
    input: { repo: "pipedreamer", note: "line one\nline two", list: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    trigger: "cron",
    startedAt: "2025-03-01T12:00:00.000Z",
  },
  {
    runId: "run-<2>",
    workflow: "w",
    version: "1.1.0",
    status: "failed",
    input: {},
    error: { node: "post", message: "HTTP 503 from https://api.example.com:\n  retry later" },
    trigger: "manual",
    startedAt: "2025-03-01T11:00:00.000Z",
    durationMs: 65_000,
  },
];

Deno.test("`renderRunsTable()` shows status, trigger, start, duration and version per run", () => {
  const table = renderRunsTable(RUNS, { now: NOW }).value;
  const rows = rowsWith(table, "data-run").map(textOf);
  assert.equal(rows.length, 2);
  assert.match(
    rows[0]!,
    /◐ running 0b9f1c2e cron \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 10\.0 s 1\.2\.0 \{"repo":"pipedreamer","note":"line one\\nline two","list":\[1…$/,
  );
  assert.match(
    rows[1]!,
    /✕ failed run-<2> manual .* 1 min 05 s 1\.1\.0 \{\} post: HTTP 503 from https:\/\/api\.example\.com: retry later$/,
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
  assert.match(
    textOf(renderRunsTable([], { now: NOW, status: "failed", searching: true })),
    /No runs match the search\./,
  );
});

Deno.test("`renderRunsFilter()` is a labelled select with the current status chosen", () => {
  const filter = renderRunsFilter({ status: "failed" }).value;
  assert.match(filter, /<label for="status-filter">Status<\/label>/);
  const options = (markup: string) =>
    tagsWith(markup, "value").filter((t) => t.startsWith("<option"));
  assert.deepEqual(options(filter).map((t) => attr(t, "value")), [
    "",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
  ]);
  assert.deepEqual(options(filter).map((t) => /\sselected/.test(t)), [
    false,
    false,
    false,
    false,
    true,
    false,
  ]);
  assert.match(options(renderRunsFilter({}).value)[0]!, /\sselected/);
  assert.doesNotMatch(filter, /data-focus-key="filter:clear"/);
});

Deno.test("`renderRunsFilter()` keeps the id search and the days, escaped, with a Clear link", () => {
  const filter = renderRunsFilter({ status: "failed", q: '"><b>', since: "2025-01-01" }).value;
  const search = tagsWith(filter, "id", "run-search")[0]!;
  assert.equal(attr(search, "value"), '"><b>');
  assert.ok(!filter.includes("<b>"));
  assert.equal(attr(tagsWith(filter, "id", "since-filter")[0]!, "value"), "2025-01-01");
  assert.equal(attr(tagsWith(filter, "id", "until-filter")[0]!, "value"), "");
  assert.match(filter, /<label for="run-search">Run id<\/label>/);
  assert.equal(
    attr(tagsWith(filter, "data-focus-key", "filter:clear")[0]!, "href"),
    "#/?status=failed",
  );
});

Deno.test("`inputPreview()` and `errorPreview()` fit on one line", () => {
  assert.equal(inputPreview({ a: 1, b: "x y" }), '{"a":1,"b":"x y"}');
  assert.equal(inputPreview(undefined), "—");
  assert.equal(inputPreview("x".repeat(100), 10), '"xxxxxxxx…');
  assert.equal(inputPreview({ t: "a\tb\nc" }), '{"t":"a\\tb\\nc"}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(inputPreview(cyclic), "[object Object]");
  assert.equal(errorPreview(undefined), "");
  assert.equal(errorPreview({ node: "n", message: " a\n\n b " }), "n: a b");
});

Deno.test("`searchParams()` turns days into local-midnight instants, `until` inclusive", () => {
  const since = new Date(2025, 0, 31).toISOString();
  const until = new Date(2025, 1, 3).toISOString();
  assert.deepEqual(searchParams({ q: " ab ", since: "2025-01-31", until: "2025-02-02" }), {
    q: "ab",
    since,
    until,
  });
  assert.deepEqual(searchParams({ q: "  ", since: "31/01/2025" }), {
    q: undefined,
    since: undefined,
    until: undefined,
  });
  assert.equal(localDayStart("2025-12-31", 1), new Date(2026, 0, 1).toISOString());
});

Deno.test("`matchesSearch()` admits live runs by id prefix and start day", () => {
  const run = RUNS[0]!;
  const at = Date.parse(run.startedAt!);
  assert.ok(matchesSearch(run, {}, at));
  assert.ok(matchesSearch(run, { q: "0b9f" }, at));
  assert.ok(!matchesSearch(run, { q: "0B9F" }, at));
  const day = (ms: number) => {
    const d = new Date(ms);
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  };
  assert.ok(matchesSearch(run, { since: day(at), until: day(at) }, at));
  assert.ok(!matchesSearch(run, { since: day(at + 86_400_000) }, at));
  assert.ok(!matchesSearch(run, { until: day(at - 86_400_000) }, at));
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
  const searched = renderPager({ q: "ab", since: "2025-01-01", cursor: "c1", nextCursor: "c2" });
  assert.deepEqual(tagsWith(searched, "href").map((t) => attr(t, "href")), [
    "#/?q=ab&since=2025-01-01",
    "#/?q=ab&since=2025-01-01&cursor=c2",
  ]);
});
