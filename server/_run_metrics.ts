/**
 * The run manager's Prometheus metrics: runs by final status, runs in flight, queue depth, node
 * durations, attempts, failures and cache hits, plus the process metrics.
 *
 * prom-client (and the `node:zlib`, `node:http` it pulls in) is loaded on first need, not while
 * `serve` starts: when `/metrics` is asked, or {@link LOAD_DELAY_MS} after the first counted
 * transition, or as soon as {@link MAX_PENDING} transitions wait. Until then each transition is
 * kept (its values taken at once) and replayed in order into the counters when they exist, so
 * nothing counted before the load is lost. The process metrics (event loop lag, GC) observe from
 * the load on.
 *
 * @module
 */

import type { CompiledWorkflow, NodeRecord, RunRecord } from "../engine/mod.ts";
import type { MetricsFormat } from "./_metrics_format.ts";
import type { PromRunMetrics, RunGauges } from "./_prom_run_metrics.ts";

export type { RunGauges };

const FINAL_NODE = new Set(["succeeded", "failed", "cancelled"]);

/** How long after the first counted transition prom-client is loaded, if nobody asked before. */
export const LOAD_DELAY_MS = 2_000;
/** Transitions kept before prom-client is loaded at once. */
export const MAX_PENDING = 10_000;

type Update = (metrics: PromRunMetrics) => void;

/** Counters and histograms fed by the run manager's hooks. */
export class RunMetrics {
  readonly #gauges: () => RunGauges;
  readonly #options: { processMetrics?: boolean };
  #loaded: PromRunMetrics | undefined;
  #loading: Promise<PromRunMetrics> | undefined;
  #pending: Update[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(gauges: () => RunGauges, options: { processMetrics?: boolean } = {}) {
    this.#gauges = gauges;
    this.#options = options;
  }

  /** Whether prom-client is loaded (for tests). */
  get loaded(): boolean {
    return this.#loaded !== undefined;
  }

  /** Creates the zero series of a workflow's run counters, so that they exist before any run. */
  seed(workflow: string): void {
    this.#update((m) => m.seed(workflow), false);
  }

  /** Counts a finished run. */
  runFinished(record: RunRecord): void {
    const labels = { workflow: record.workflow, status: record.status };
    const seconds = record.durationMs !== undefined && record.startedAt !== undefined
      ? record.durationMs / 1000
      : undefined;
    this.#update((m) => m.runFinished(labels, seconds));
  }

  /** Counts a node transition; only final ones (succeeded, failed, cancelled) count. */
  nodeUpdated(workflow: CompiledWorkflow, nodeId: string, node: NodeRecord): void {
    if (!FINAL_NODE.has(node.status) || node.reusedFrom) return;
    const labels = { workflow: workflow.name, node: nodeId };
    const compiled = workflow.nodes[nodeId] ?? workflow.onError;
    const counts = {
      cached: node.cached === true,
      attempts: node.attempts,
      failed: node.status === "failed",
      seconds: node.status !== "cancelled" && node.durationMs !== undefined
        ? node.durationMs / 1000
        : undefined,
      cacheMiss: compiled?.id === nodeId && compiled.cacheMs !== undefined && node.attempts > 0,
    };
    this.#update((m) => m.nodeFinished(labels, counts));
  }

  /** The exposition: Prometheus text 0.0.4, or OpenMetrics. */
  async render(format: MetricsFormat = "prometheus"): Promise<string> {
    return (await this.#load()).render(format);
  }

  /** Cancels the pending load timer (the run manager closes); `render()` still loads. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #update(update: Update, counted = true): void {
    if (this.#loaded) return update(this.#loaded);
    this.#pending.push(update);
    if (!counted) return;
    if (this.#pending.length >= MAX_PENDING) {
      void this.#load().catch(() => {});
    } else if (!this.#stopped && this.#timer === undefined && this.#loading === undefined) {
      const timer = this.#timer = setTimeout(
        () => void this.#load().catch(() => {}),
        LOAD_DELAY_MS,
      );
      Deno.unrefTimer(timer);
    }
  }

  #load(): Promise<PromRunMetrics> {
    return this.#loading ??= import("./_prom_run_metrics.ts").then(({ PromRunMetrics }) => {
      clearTimeout(this.#timer);
      const metrics = new PromRunMetrics(this.#gauges, this.#options);
      for (const update of this.#pending) update(metrics);
      this.#pending = [];
      return this.#loaded = metrics;
    }, (error) => {
      this.#loading = undefined;
      throw error;
    });
  }
}
