import assert from "node:assert/strict";
import {
  appendExposition,
  client,
  metricsContentType,
  metricsFormatOf,
  MetricsRegistries,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  withExtraMetrics,
} from "./_metrics.ts";

Deno.test("`metricsFormatOf()` picks OpenMetrics only when the Accept header names it", () => {
  const table: [string | null, string][] = [
    [null, "prometheus"],
    ["*/*", "prometheus"],
    ["text/plain;version=0.0.4", "prometheus"],
    // What Prometheus 2.x/3.x scrapers send by default.
    [
      "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1",
      "openmetrics",
    ],
  ];
  for (const [accept, format] of table) assert.equal(metricsFormatOf(accept), format, accept ?? "");
  assert.equal(metricsContentType("prometheus"), PROMETHEUS_CONTENT_TYPE);
  assert.equal(metricsContentType("openmetrics"), OPENMETRICS_CONTENT_TYPE);
  assert.match(PROMETHEUS_CONTENT_TYPE, /^text\/plain; version=0\.0\.4/);
  // Written out (server/_metrics_format.ts loads no prom-client): they must stay prom-client's.
  assert.equal(PROMETHEUS_CONTENT_TYPE, client.Registry.PROMETHEUS_CONTENT_TYPE);
  assert.equal(OPENMETRICS_CONTENT_TYPE, client.Registry.OPENMETRICS_CONTENT_TYPE);
});

Deno.test("`MetricsRegistries` renders both formats, with process metrics and escaped labels", async () => {
  const registries = new MetricsRegistries();
  const counter = new client.Counter({
    name: "demo_total",
    help: "A demo.",
    labelNames: ["name"] as const,
    registers: registries.both,
  });
  counter.inc({ name: 'say "hi"\n' }, 2);
  const text = await registries.render("prometheus");
  assert.match(text, /^# TYPE demo_total counter$/m);
  assert.match(text, /^demo_total\{name="say \\"hi\\"\\n"\} 2$/m);
  assert.match(text, /^process_cpu_seconds_total /m);
  assert.match(text, /^process_resident_memory_bytes /m);
  const open = await registries.render("openmetrics");
  assert.match(open, /^# TYPE demo counter$/m);
  assert.match(open, /^demo_total\{name="say \\"hi\\"\\n"\} 2$/m);
  assert.ok(open.trimEnd().endsWith("# EOF"));
  const quiet = await new MetricsRegistries({ processMetrics: false }).render();
  assert.equal(quiet.includes("process_"), false);
});

Deno.test("`appendExposition()` appends text, and goes before # EOF in OpenMetrics", () => {
  const fragment = [
    "# HELP q_received_total Messages.",
    "# TYPE q_received_total counter",
    "q_received_total 3",
    "# HELP q_lag Lag.",
    "# TYPE q_lag gauge",
    "q_lag 1",
    "",
  ].join("\n");
  assert.equal(appendExposition("a 1\n", fragment, "prometheus"), "a 1\n" + fragment);
  const open = appendExposition("# TYPE a gauge\na 1\n# EOF\n", fragment, "openmetrics");
  assert.equal(
    open,
    [
      "# TYPE a gauge",
      "a 1",
      "# HELP q_received Messages.",
      "# TYPE q_received counter",
      "q_received_total 3",
      "# HELP q_lag Lag.",
      "# TYPE q_lag gauge",
      "q_lag 1",
      "# EOF",
      "",
    ].join("\n"),
  );
  assert.equal(appendExposition("x", "", "openmetrics"), "x");
});

Deno.test("`withExtraMetrics()` adds the extra series and keeps the other methods", async () => {
  class Api {
    #n = 7;
    metrics(format = "prometheus") {
      return Promise.resolve(format === "openmetrics" ? "own 1\n# EOF\n" : "own 1\n");
    }
    count() {
      return this.#n;
    }
  }
  const api = withExtraMetrics(new Api(), () => "extra 2\n");
  assert.equal(await api.metrics(), "own 1\nextra 2\n");
  assert.equal(await api.metrics("openmetrics"), "own 1\nextra 2\n# EOF\n");
  assert.equal(api.count(), 7);
});
