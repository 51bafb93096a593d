/**
 * Counters and gauges of the queue triggers and the webhook gateway, rendered as a Prometheus
 * text fragment the server appends to `GET /metrics`.
 *
 * @module
 */

/** Every metric, with its type and help text. */
export const TRIGGER_METRICS = {
  pipedreamer_queue_messages_received_total: ["counter", "Messages delivered to a queue trigger"],
  pipedreamer_queue_messages_acked_total: ["counter", "Messages acked after their run finished"],
  pipedreamer_queue_messages_naked_total: ["counter", "Messages naked for a later redelivery"],
  pipedreamer_queue_messages_dead_lettered_total: [
    "counter",
    "Messages published to the dead-letter subject",
  ],
  pipedreamer_queue_messages_dropped_total: [
    "counter",
    "Core NATS messages dropped while the trigger was saturated (at most once)",
  ],
  pipedreamer_queue_in_flight: ["gauge", "Runs started by a queue trigger and not finished"],
  pipedreamer_queue_consumer_lag: ["gauge", "Messages of the stream not yet delivered"],
  pipedreamer_queue_consumer_ack_pending: ["gauge", "Messages delivered and not yet acked"],
  pipedreamer_webhook_requests_total: ["counter", "Webhook requests by hook and status"],
} as const;
/** One metric name of {@link TRIGGER_METRICS}. */
export type TriggerMetric = keyof typeof TRIGGER_METRICS;

/** Label values of one series. */
export type Labels = Record<string, string | number>;

/**
 * A small registry: `add()` counters, `set()` gauges, `render()` the exposition text.
 *
 * @example
 * ```ts
 * const metrics = new TriggerMetrics();
 * metrics.add("pipedreamer_queue_messages_received_total", { subject: "a" });
 * metrics.render(); // "# HELP …\n# TYPE …\npipedreamer_queue_messages_received_total{subject=\"a\"} 1\n"
 * ```
 */
export class TriggerMetrics {
  readonly #series = new Map<TriggerMetric, Map<string, number>>();

  /** Adds `by` (default 1) to a counter or gauge. */
  add(name: TriggerMetric, labels: Labels, by = 1): void {
    const series = this.#of(name);
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + by);
  }

  /** Sets a gauge. */
  set(name: TriggerMetric, labels: Labels, value: number): void {
    this.#of(name).set(labelText(labels), value);
  }

  /** The current value of one series (0 when never touched). */
  get(name: TriggerMetric, labels: Labels): number {
    return this.#series.get(name)?.get(labelText(labels)) ?? 0;
  }

  /** Prometheus text exposition of every series touched so far. */
  render(): string {
    const lines: string[] = [];
    for (const [name, [type, help]] of Object.entries(TRIGGER_METRICS)) {
      const series = this.#series.get(name as TriggerMetric);
      if (!series || series.size === 0) continue;
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of series) lines.push(`${name}${labels} ${value}`);
    }
    return lines.length ? `${lines.join("\n")}\n` : "";
  }

  #of(name: TriggerMetric): Map<string, number> {
    let series = this.#series.get(name);
    if (!series) this.#series.set(name, series = new Map());
    return series;
  }
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([key, value]) =>
    `${key}="${String(value).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}
