/**
 * The run manager's Prometheus metrics: runs by final status, runs in flight, queue depth,
 * node durations, attempts, failures and cache hits.
 *
 * @module
 */

import type { CompiledWorkflow, NodeRecord, RunRecord } from "../engine/mod.ts";
import { Counter, DURATION_BUCKETS, Gauge, Histogram, MetricsRegistry } from "./_metrics.ts";

const FINAL_RUN = ["succeeded", "failed", "cancelled"] as const;
const FINAL_NODE = new Set(["succeeded", "failed", "cancelled"]);

/** What the gauges read when the metrics are rendered. */
export interface RunGauges {
  workflow: string;
  running: number;
  queued: number;
}

/** Counters and histograms fed by the run manager's hooks. */
export class RunMetrics {
  readonly #registry = new MetricsRegistry();
  readonly #runs: Counter;
  readonly #runDuration: Histogram;
  readonly #nodeDuration: Histogram;
  readonly #attempts: Counter;
  readonly #failures: Counter;
  readonly #cacheHits: Counter;
  readonly #cacheMisses: Counter;

  constructor(gauges: () => RunGauges) {
    const r = this.#registry;
    this.#runs = r.register(
      new Counter("pipedreamer_runs_total", "Runs finished, by final status.", [
        "workflow",
        "status",
      ]),
    );
    r.register(
      new Gauge("pipedreamer_runs_in_flight", "Runs executing now.", ["workflow"], () => {
        const g = gauges();
        return [[{ workflow: g.workflow }, g.running]];
      }),
    );
    r.register(
      new Gauge("pipedreamer_queue_depth", "Runs waiting to start.", ["workflow"], () => {
        const g = gauges();
        return [[{ workflow: g.workflow }, g.queued]];
      }),
    );
    this.#runDuration = r.register(
      new Histogram(
        "pipedreamer_run_duration_seconds",
        "Duration of finished runs in seconds.",
        ["workflow", "status"],
        DURATION_BUCKETS,
      ),
    );
    this.#nodeDuration = r.register(
      new Histogram(
        "pipedreamer_node_duration_seconds",
        "Duration of executed nodes (all attempts) in seconds; cache hits excluded.",
        ["workflow", "node"],
        DURATION_BUCKETS,
      ),
    );
    this.#attempts = r.register(
      new Counter("pipedreamer_node_attempts_total", "Node attempts made.", ["workflow", "node"]),
    );
    this.#failures = r.register(
      new Counter("pipedreamer_node_failures_total", "Nodes that finally failed.", [
        "workflow",
        "node",
      ]),
    );
    this.#cacheHits = r.register(
      new Counter("pipedreamer_node_cache_hits_total", "Node outputs taken from the cache.", [
        "workflow",
        "node",
      ]),
    );
    this.#cacheMisses = r.register(
      new Counter(
        "pipedreamer_node_cache_misses_total",
        "Executions of nodes with cache: that found no cached output.",
        ["workflow", "node"],
      ),
    );
  }

  /** Creates the zero series of a workflow's run counters, so that they exist before any run. */
  seed(workflow: string): void {
    for (const status of FINAL_RUN) this.#runs.inc({ workflow, status }, 0);
  }

  /** Counts a finished run. */
  runFinished(record: RunRecord): void {
    const labels = { workflow: record.workflow, status: record.status };
    this.#runs.inc(labels);
    if (record.durationMs !== undefined && record.startedAt !== undefined) {
      this.#runDuration.observe(labels, record.durationMs / 1000);
    }
  }

  /** Counts a node transition; only final ones (succeeded, failed, cancelled) count. */
  nodeUpdated(workflow: CompiledWorkflow, nodeId: string, node: NodeRecord): void {
    if (!FINAL_NODE.has(node.status)) return;
    const labels = { workflow: workflow.name, node: nodeId };
    if (node.cached) {
      this.#cacheHits.inc(labels);
      return;
    }
    if (node.attempts > 0) this.#attempts.inc(labels, node.attempts);
    if (node.status === "failed") this.#failures.inc(labels);
    if (node.status !== "cancelled" && node.durationMs !== undefined) {
      this.#nodeDuration.observe(labels, node.durationMs / 1000);
    }
    const compiled = workflow.nodes[nodeId] ?? workflow.onError;
    if (compiled?.id === nodeId && compiled.cacheMs !== undefined && node.attempts > 0) {
      this.#cacheMisses.inc(labels);
    }
  }

  /** Prometheus text exposition. */
  render(): string {
    return this.#registry.render();
  }
}
