/**
 * The prom-client side of the run manager's metrics (server/_run_metrics.ts loads this module
 * on first need): runs by final status, runs in flight, queue depth, node durations, attempts,
 * failures and cache hits, plus the process metrics.
 *
 * @module
 */

import { client, DURATION_BUCKETS, type MetricsFormat, MetricsRegistries } from "./_metrics.ts";

const FINAL_RUN = ["succeeded", "failed", "cancelled"] as const;

/** What the gauges read when the metrics are rendered. */
export interface RunGauges {
  workflow: string;
  running: number;
  queued: number;
}

/** What one final node transition adds (see `RunMetrics.nodeUpdated`). */
export interface NodeCounts {
  cached: boolean;
  attempts: number;
  failed: boolean;
  /** Undefined when the node was cancelled or has no duration. */
  seconds: number | undefined;
  cacheMiss: boolean;
}

/** Labels of a node's series. */
export type NodeLabels = { workflow: string; node: string };

/** The prom-client counters and histograms of {@link RunMetrics}. */
export class PromRunMetrics {
  readonly #registries: MetricsRegistries;
  readonly #runs: client.Counter<"workflow" | "status">;
  readonly #runDuration: client.Histogram<"workflow" | "status">;
  readonly #nodeDuration: client.Histogram<"workflow" | "node">;
  readonly #attempts: client.Counter<"workflow" | "node">;
  readonly #failures: client.Counter<"workflow" | "node">;
  readonly #cacheHits: client.Counter<"workflow" | "node">;
  readonly #cacheMisses: client.Counter<"workflow" | "node">;

  constructor(gauges: () => RunGauges, options: { processMetrics?: boolean } = {}) {
    const registries = this.#registries = new MetricsRegistries(options);
    const registers = registries.both;
    const nodeLabels = ["workflow", "node"] as const;
    this.#runs = new client.Counter({
      name: "pipedreamer_runs_total",
      help: "Runs finished, by final status.",
      labelNames: ["workflow", "status"] as const,
      registers,
    });
    const gauge = (name: string, help: string, read: (g: RunGauges) => number) =>
      new client.Gauge({
        name,
        help,
        labelNames: ["workflow"] as const,
        registers,
        collect() {
          const g = gauges();
          this.reset();
          this.set({ workflow: g.workflow }, read(g));
        },
      });
    gauge("pipedreamer_runs_in_flight", "Runs executing now.", (g) => g.running);
    gauge("pipedreamer_queue_depth", "Runs waiting to start.", (g) => g.queued);
    this.#runDuration = new client.Histogram({
      name: "pipedreamer_run_duration_seconds",
      help: "Duration of finished runs in seconds.",
      labelNames: ["workflow", "status"] as const,
      buckets: [...DURATION_BUCKETS],
      registers,
    });
    this.#nodeDuration = new client.Histogram({
      name: "pipedreamer_node_duration_seconds",
      help: "Duration of executed nodes (all attempts) in seconds; cache hits excluded.",
      labelNames: nodeLabels,
      buckets: [...DURATION_BUCKETS],
      registers,
    });
    this.#attempts = new client.Counter({
      name: "pipedreamer_node_attempts_total",
      help: "Node attempts made.",
      labelNames: nodeLabels,
      registers,
    });
    this.#failures = new client.Counter({
      name: "pipedreamer_node_failures_total",
      help: "Nodes that finally failed.",
      labelNames: nodeLabels,
      registers,
    });
    this.#cacheHits = new client.Counter({
      name: "pipedreamer_node_cache_hits_total",
      help: "Node outputs taken from the cache.",
      labelNames: nodeLabels,
      registers,
    });
    this.#cacheMisses = new client.Counter({
      name: "pipedreamer_node_cache_misses_total",
      help: "Executions of nodes with cache: that found no cached output.",
      labelNames: nodeLabels,
      registers,
    });
  }

  /** Creates the zero series of a workflow's run counters, so that they exist before any run. */
  seed(workflow: string): void {
    for (const status of FINAL_RUN) this.#runs.inc({ workflow, status }, 0);
  }

  /** Counts a finished run. */
  runFinished(labels: { workflow: string; status: string }, seconds: number | undefined): void {
    this.#runs.inc(labels);
    if (seconds !== undefined) this.#runDuration.observe(labels, seconds);
  }

  /** Counts a node's final transition. */
  nodeFinished(labels: NodeLabels, counts: NodeCounts): void {
    if (counts.cached) {
      this.#cacheHits.inc(labels);
      return;
    }
    if (counts.attempts > 0) this.#attempts.inc(labels, counts.attempts);
    if (counts.failed) this.#failures.inc(labels);
    if (counts.seconds !== undefined) this.#nodeDuration.observe(labels, counts.seconds);
    if (counts.cacheMiss) this.#cacheMisses.inc(labels);
  }

  /** The exposition: Prometheus text 0.0.4, or OpenMetrics. */
  render(format: MetricsFormat = "prometheus"): Promise<string> {
    return this.#registries.render(format);
  }
}
