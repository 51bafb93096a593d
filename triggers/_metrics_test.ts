import assert from "node:assert/strict";
import { TriggerMetrics } from "./_metrics.ts";

Deno.test("`TriggerMetrics.render()` writes a Prometheus fragment of the series touched", () => {
  const metrics = new TriggerMetrics();
  assert.equal(metrics.render(), "");
  const labels = { workflow: "flow", subject: 'a."b"\\c' };
  metrics.add("pipedreamer_queue_messages_received_total", labels);
  metrics.add("pipedreamer_queue_messages_received_total", labels, 2);
  metrics.set("pipedreamer_queue_consumer_lag", labels, 7);
  metrics.set("pipedreamer_queue_consumer_lag", labels, 4);
  assert.equal(
    metrics.render(),
    [
      "# HELP pipedreamer_queue_messages_received_total Messages delivered to a queue trigger",
      "# TYPE pipedreamer_queue_messages_received_total counter",
      'pipedreamer_queue_messages_received_total{workflow="flow",subject="a.\\"b\\"\\\\c"} 3',
      "# HELP pipedreamer_queue_consumer_lag Messages of the stream not yet delivered",
      "# TYPE pipedreamer_queue_consumer_lag gauge",
      'pipedreamer_queue_consumer_lag{workflow="flow",subject="a.\\"b\\"\\\\c"} 4',
      "",
    ].join("\n"),
  );
  assert.equal(metrics.get("pipedreamer_queue_messages_received_total", labels), 3);
});
