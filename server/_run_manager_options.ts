/**
 * The options of the run manager's constructor, `submit()` and `runAndWait()`.
 *
 * @module
 */

import type { Clock, CompiledWorkflow, ExecuteOptions, NodeRunner } from "../engine/mod.ts";
import type { RunStore } from "../store/mod.ts";
import type { FindVersion, RetryPlan } from "./_retry.ts";
import type { RunTracer } from "../tracing/mod.ts";

/** Options of `RunManager.create()`. */
export interface RunManagerOptions {
  /** The current workflow version (replaceable with `reload()`). */
  workflow: CompiledWorkflow;
  /** Where runs, nodes, logs, the node cache and cron ticks are kept. Not closed by the manager. */
  store: RunStore;
  /** Runs the nodes. @default createRunner() (then closed by `close()`) */
  runner?: NodeRunner;
  /** Secrets keyed by service, as `ctx.secrets`; every value is redacted from logs and errors. @default {} */
  secrets?: Record<string, unknown>;
  /**
   * Each sub-workflow's own secrets, by its directory (`loadSubWorkflowSecrets()`): its child
   * runs get these, never `secrets`; redacted like `secrets`. @default {}
   */
  subWorkflowSecrets?: Record<string, Record<string, unknown>>;
  /** Merged over `workflow.config` (e.g. the values of /app/config). @default undefined */
  configOverlay?: Record<string, unknown>;
  /** Time source of leases, delays, cron and timeouts. @default systemClock */
  clock?: Clock;
  /**
   * This process's id in run leases; it must be unique per process (two replicas with one id
   * would both execute a run). @default crypto.randomUUID()
   */
  owner?: string;
  /**
   * Lease length; leases are renewed and lapsed leases scanned for every third of it.
   * @default 30_000
   */
  leaseMs?: number;
  /**
   * This manager is the only one using the store (it holds the SQLite file's lock): `recover()`
   * takes over unfinished runs at once, whatever their leases. @default false
   */
  exclusiveStore?: boolean;
  /** Start the sandboxes of the first nodes at once (`serve`: for the first run). @default false */
  prewarm?: boolean;
  /** The most recent missed cron tick within this window fires on start (see CronScheduler). @default 300_000 */
  cronCatchUpMs?: number;
  /** Receives background failures (store errors of timers, cron, subscribers). @default ignore */
  onError?: (error: unknown) => void;
  /**
   * Gives `ctx.k8s` to nodes that declare `capabilities.k8s` (see `ExecuteOptions.k8s`).
   * @default undefined (no node has `ctx.k8s`)
   */
  k8s?: ExecuteOptions["k8s"];
  /** How often stored sleep and wait timers are polled (after `recover()`). @default 1000 */
  timerPollMs?: number;
  /**
   * Finds an earlier code version by its hash, for retries of runs of that version (the code
   * snapshots of `dev`/`serve`). @default undefined (only versions loaded in this process)
   */
  findVersion?: FindVersion;
  /** Exports a trace per run (a span per node attempt). @default undefined (no traces) */
  tracer?: RunTracer;
}

/** Options of `RunManager.submit()`. */
export interface SubmitOptions {
  /** Same key within 24 h returns the same run (it never runs twice). @default undefined */
  idempotencyKey?: string;
  /** What started the run: "manual", "cron", "queue", "webhook", "retry". @default "manual" */
  trigger?: string;
  /** A retry (see `RunManager.retry`): its run, `from` node and code version. */
  retry?: RetryPlan;
  /** An incoming W3C `traceparent`: the parent of the run's trace. @default undefined */
  traceparent?: string;
  /**
   * The caller acknowledges the run by its final record only (as `runAndWait()` does):
   * `submit()` may then resolve before the new run is durable (its final write, which the
   * caller waits for, covers it). @default false
   */
  acknowledgedAtEnd?: boolean;
}

/** Options of `RunManager.runAndWait()`. */
export interface RunAndWaitOptions extends SubmitOptions {
  /** Aborting it cancels the run (the promise then resolves with the cancelled record). @default undefined */
  signal?: AbortSignal;
}
