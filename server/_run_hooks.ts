/**
 * The executor hooks of a managed run: every run transition, node transition and log line is
 * written to the store first, then published to subscribers (in the executor's order).
 *
 * @module
 */

import {
  type CompiledWorkflow,
  type ExecuteHooks,
  isFinishedStatus,
  type LogLine,
  type RunRecord,
  RunStatus,
} from "../engine/mod.ts";
import {
  type Lease,
  LeaseLostError,
  type RunStore,
  type RunUpdate,
  UnserializableValueError,
} from "../store/mod.ts";
import { type RunHub, summaryOf } from "./_run_hub.ts";
import type { RunMetrics } from "./_run_metrics.ts";

/** One managed run, as its hooks see it. */
export interface HookedRun {
  runId: string;
  workflow: CompiledWorkflow;
  /** Sequence number of the run's last stored log line (the store numbers lines 1, 2, 3, …). */
  logSeq: number;
  /** Fields fixed when the run was created (kept when a resumed run uses newer code). */
  fixed: Pick<RunRecord, "trigger" | "codeHash">;
  /** Set when a store write failed (the run then stays unfinished in the store). */
  storeFailed?: boolean;
  /**
   * Set when another replica took the run over (this one lost its lease): nothing more is
   * written or published for it here.
   */
  detached?: boolean;
  /** Set once the final run transition is stored (the lease then lapses by itself). */
  ended?: boolean;
  /** The lease every write is fenced by; undefined writes unfenced (tests, a local cancel). */
  lease?: Lease;
  /** Called once when a fenced write finds the lease taken over (the run is then detached). */
  onLeaseLost?: (error: LeaseLostError) => void;
  /** A node output the store could not serialise: the run fails with this error. */
  unstorable?: { node: string; message: string };
}

/** What the hooks write to and publish through. */
export interface HookTargets {
  store: RunStore;
  hub: RunHub;
  metrics: RunMetrics;
}

/** The record as stored: fields fixed at creation win over the executor's view. */
export function storedView(run: HookedRun, record: RunRecord): RunRecord {
  const copy = structuredClone(record);
  if (run.fixed.trigger !== undefined) copy.trigger = run.fixed.trigger;
  if (run.fixed.codeHash !== undefined) copy.codeHash = run.fixed.codeHash;
  return copy;
}

/**
 * Awaits a store write. A lost lease detaches the run (nothing more is written here); a value
 * the store cannot serialise is the run's fault, not the store's; any other error flags the
 * store as failed (the run then stays unfinished, to be resumed).
 */
export async function write<T>(run: HookedRun, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof LeaseLostError) {
      if (!run.detached) {
        run.detached = true;
        run.onLeaseLost?.(error);
      }
    } else if (!(error instanceof UnserializableValueError)) {
      run.storeFailed = true;
    }
    throw error;
  }
}

/**
 * A write of a transition the executor goes on without (its hooks are pipelined with a store
 * that orders writes: `ExecuteOptions.pipelineHooks`), acknowledged by a later one: the run's
 * end. SQLite `full` then starts no fsync for it (`RunStore.lazily`).
 */
function lazily<T>(store: RunStore, call: () => Promise<T>): Promise<T> {
  return store.lazily && store.ordersWrites ? store.lazily(call) : call();
}

/** Persists one log line, then publishes it with its sequence number. */
export async function appendLog(t: HookTargets, run: HookedRun, line: LogLine): Promise<void> {
  if (run.detached || run.storeFailed) return;
  await write(run, lazily(t.store, () => t.store.appendLogs(run.runId, [line], run.lease)));
  run.logSeq++;
  if (t.hub.listening(run.runId)) {
    t.hub.publish(run.runId, { type: "log", line: { ...line, seq: run.logSeq } });
  }
}

/** The record-level fields of a run transition. */
function runUpdate(record: RunRecord): RunUpdate {
  if (!isFinishedStatus(record.status)) {
    return { status: record.status, startedAt: record.startedAt };
  }
  return {
    status: record.status,
    result: record.result,
    error: record.error,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
  };
}

/** Hooks that persist, count and publish every transition of `run`. */
export function persistHooks(t: HookTargets, run: HookedRun): ExecuteHooks {
  const { store, hub, metrics } = t;
  return {
    async onRunUpdate(record) {
      // After a failed write nothing more is stored: with pipelined hooks, later transitions
      // (a child started before its parent's success was stored) must not land after the gap.
      if (run.detached || run.storeFailed) return;
      const update = () => store.updateRun(run.runId, runUpdate(record), run.lease);
      // Its start is acknowledged by its end; its end, or parking, by itself.
      await write(run, record.status === RunStatus.Running ? lazily(store, update) : update());
      const ended = isFinishedStatus(record.status);
      if (ended) run.ended = true;
      // Records are cloned only for someone: the metrics of a finished run, or subscribers.
      const listening = hub.listening(run.runId);
      if (!ended && !listening) return;
      // The metrics read no field that the stored view changes: no clone for them alone.
      if (!listening) return metrics.runFinished(record);
      const view = storedView(run, record);
      if (listening) hub.publish(run.runId, { type: "run", record: summaryOf(view) });
      if (ended) {
        metrics.runFinished(view);
        if (listening) hub.publish(run.runId, { type: "end", record: view });
      }
    },
    async onNodeUpdate(runId, nodeId, node) {
      if (run.detached || run.storeFailed || run.unstorable) return;
      try {
        // A finished node's children start once this is committed (`beforeChildren`).
        await write(run, lazily(store, () => store.updateNode(runId, nodeId, node, run.lease)));
      } catch (error) {
        if (!(error instanceof UnserializableValueError)) throw error;
        // The node's output cannot be stored: record the node as failed (without the output)
        // and stop the run; it then ends failed with this error (never stuck running).
        const message = error.message;
        if (run.unstorable) throw error;
        run.unstorable = { node: nodeId, message };
        const failed = { ...node, status: "failed" as const, error: { message } };
        delete failed.output;
        await write(run, lazily(store, () => store.updateNode(runId, nodeId, failed, run.lease)));
        hub.publish(runId, { type: "node", runId, nodeId, node: failed });
        throw error;
      }
      metrics.nodeUpdated(run.workflow, nodeId, node);
      if (hub.listening(runId)) {
        hub.publish(runId, { type: "node", runId, nodeId, node: structuredClone(node) });
      }
    },
    onLog: (line) => appendLog(t, run, line),
  };
}
