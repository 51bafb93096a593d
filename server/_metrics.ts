/**
 * The Prometheus exposition of the server, built on prom-client (the Node.js ecosystem's
 * standard client): run metrics, the process metrics prom-client collects (CPU, memory, open
 * file descriptors, event loop lag, …), in the text format 0.0.4 or in OpenMetrics 1.0.0.
 * Loaded on first need (see server/_run_metrics.ts); the formats and helpers that need no
 * prom-client are in server/_metrics_format.ts.
 *
 * @module
 */

import client from "prom-client";
import type { MetricsFormat } from "./_metrics_format.ts";

export * from "./_metrics_format.ts";

/** Two prom-client registries (one per format) that every metric is registered in. */
export class MetricsRegistries {
  readonly prometheus: client.Registry = new client.Registry();
  readonly openmetrics: client.Registry<client.OpenMetricsContentType> = new client.Registry<
    client.OpenMetricsContentType
  >();

  /** Also collects prom-client's process metrics (`process_*`, `nodejs_*`) unless false. */
  constructor(options: { processMetrics?: boolean } = {}) {
    this.openmetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    if (options.processMetrics !== false) {
      client.collectDefaultMetrics({ register: this.prometheus });
      client.collectDefaultMetrics({ register: this.openmetrics });
    }
  }

  /** Both registries, for a metric's `registers` option. */
  get both(): client.Registry[] {
    return [this.prometheus, this.openmetrics as unknown as client.Registry];
  }

  /** The exposition in `format`. */
  render(format: MetricsFormat = "prometheus"): Promise<string> {
    return (format === "openmetrics" ? this.openmetrics : this.prometheus).metrics();
  }
}

export { client };
