import assert from "node:assert/strict";
import {
  Counter,
  escapeLabelValue,
  formatValue,
  Gauge,
  Histogram,
  MetricsRegistry,
} from "./_metrics.ts";

Deno.test("`escapeLabelValue()` escapes backslash, double quote and line feed", () => {
  const table: [string, string][] = [
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\dir", "C:\\\\dir"],
    ["two\nlines", "two\\nlines"],
    ['\\"\n', '\\\\\\"\\n'],
  ];
  for (const [input, expected] of table) assert.equal(escapeLabelValue(input), expected, input);
});

Deno.test("`formatValue()` writes infinities and NaN the Prometheus way", () => {
  assert.deepEqual([1, 0.25, Infinity, -Infinity, NaN].map(formatValue), [
    "1",
    "0.25",
    "+Inf",
    "-Inf",
    "NaN",
  ]);
});

Deno.test("`MetricsRegistry.render()` writes HELP, TYPE and samples with escaped labels", () => {
  const registry = new MetricsRegistry();
  const runs = registry.register(
    new Counter("runs_total", "Runs.\nBy status \\ workflow.", ["workflow", "status"]),
  );
  registry.register(new Gauge("depth", "Queue depth.", [], () => [[{}, 3]]));
  runs.inc({ workflow: 'a"b', status: "ok" });
  runs.inc({ workflow: 'a"b', status: "ok" }, 2);
  runs.inc({ workflow: "x\ny", status: "failed" });
  assert.equal(runs.get({ workflow: 'a"b', status: "ok" }), 3);
  assert.equal(
    registry.render(),
    [
      "# HELP runs_total Runs.\\nBy status \\\\ workflow.",
      "# TYPE runs_total counter",
      'runs_total{workflow="a\\"b",status="ok"} 3',
      'runs_total{workflow="x\\ny",status="failed"} 1',
      "# HELP depth Queue depth.",
      "# TYPE depth gauge",
      "depth 3",
      "",
    ].join("\n"),
  );
});

Deno.test("`Histogram` counts cumulative buckets, +Inf, sum and count", () => {
  const histogram = new Histogram("d_seconds", "Durations.", ["node"], [1, 0.1, 10]);
  for (const v of [0.05, 0.1, 0.5, 20]) histogram.observe({ node: "a" }, v);
  assert.deepEqual(histogram.samples(), [
    'd_seconds_bucket{node="a",le="0.1"} 2',
    'd_seconds_bucket{node="a",le="1"} 3',
    'd_seconds_bucket{node="a",le="10"} 3',
    'd_seconds_bucket{node="a",le="+Inf"} 4',
    'd_seconds_sum{node="a"} 20.65',
    'd_seconds_count{node="a"} 4',
  ]);
});

Deno.test("metrics reject bad names, missing labels, negative increments and duplicates", () => {
  assert.throws(() => new Counter("bad-name", "x"), TypeError);
  assert.throws(() => new Counter("ok", "x", ["bad-label"]), TypeError);
  assert.throws(() => new Histogram("h", "x", ["le"]), TypeError);
  const counter = new Counter("c_total", "x", ["a"]);
  assert.throws(() => counter.inc({}), TypeError);
  assert.throws(() => counter.inc({ a: "1" }, -1), RangeError);
  const registry = new MetricsRegistry();
  registry.register(counter);
  assert.throws(() => registry.register(new Counter("c_total", "y")), TypeError);
});
