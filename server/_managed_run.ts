/**
 * One run executed by the run manager: claimed, resumed or started, executed with persisting
 * hooks; and the end of a waiting run that never starts.
 *
 * @module
 */

import {
  type Clock,
  type CompiledWorkflow,
  type ExecuteOptions,
  executeRun,
  iso,
  type NodeRunner,
  type RunRecord,
  RunStatus,
} from "../engine/mod.ts";
import {
  type Lease,
  LeaseLostError,
  type RunStore,
  UnserializableValueError,
} from "../store/mod.ts";
import { summaryOf } from "./_run_hub.ts";
import { fencedState } from "./_fenced_state.ts";
import type { RetryPlan } from "./_retry.ts";
import type { RunTracer } from "../tracing/mod.ts";
import {
  appendLog,
  type HookedRun,
  type HookTargets,
  persistHooks,
  storedView,
  write,
} from "./_run_hooks.ts";

/** A run to execute: the workflow version it uses and its stored record. */
export interface Job {
  workflow: CompiledWorkflow;
  record: RunRecord;
  /** The stored record of a run that was running when its process died. */
  resume?: RunRecord;
  /** A retry of an earlier run (not set on resume: the stored record has the reused nodes). */
  retry?: RetryPlan;
  /** The lease this manager holds on the run (its writes are fenced by it). */
  lease?: Lease;
}

/** A run holding an execution slot. */
export interface ActiveRun extends HookedRun {
  controller: AbortController;
  /** When the lease was last claimed or renewed (the manager's clock). */
  leaseFreshAt?: number;
  /**
   * Set when a shutdown stopped the run without cancelling it: nothing more is written and
   * its lease is released, so that the next process resumes it.
   */
  released?: boolean;
}

/** What executing a run needs from the manager. */
export interface RunDeps extends HookTargets {
  store: RunStore;
  runner: NodeRunner;
  secrets: Record<string, unknown>;
  /** Each sub-workflow's own secrets, by directory: what its child runs get as `secrets`. */
  subWorkflowSecrets: Record<string, Record<string, unknown>>;
  redact: (text: string) => string;
  config: Record<string, unknown> | undefined;
  clock: Clock;
  owner: string;
  leaseMs: number;
  /** `ctx.k8s` of nodes with `capabilities.k8s` (ExecuteOptions.k8s). */
  k8s: ExecuteOptions["k8s"];
  /** Child runs of `workflow:` nodes, as stored runs (server/_child_runs.ts). */
  runChild?: ExecuteOptions["runChild"];
  /** Exports a trace per run, when configured. */
  tracer?: RunTracer;
}

/** A new slot holder for `job`. */
export function activeRun(job: Job): ActiveRun {
  const { runId, trigger, codeHash } = job.record;
  return {
    runId,
    workflow: job.workflow,
    logSeq: 0,
    fixed: { trigger, codeHash },
    controller: new AbortController(),
    lease: job.lease,
  };
}

/**
 * Executes a run and resolves with its final record as stored. With `claim`, the run's lease
 * is taken first; when that fails (another replica cancelled or took it) the stored record is
 * returned without executing anything.
 *
 * @throws an Error when the store failed: the run then stays unfinished in the store with its
 *   last persisted state, to be resumed by a recovery scan or the next process
 */
export async function executeManaged(
  deps: RunDeps,
  active: ActiveRun,
  options: { job: Job; claim: boolean },
): Promise<RunRecord> {
  const { runId } = active;
  const { job } = options;
  const { store } = deps;
  if (options.claim) {
    // A run that waited here: still ours only when its lease was not claimed since (by a
    // replica that took it over, or made unclaimable by a cancel). Renewing keeps the epoch.
    const held = job.lease;
    const lease = held
      ? (await store.renewLease(runId, held.owner, deps.leaseMs, held.epoch) ? held : undefined)
      : await store.claimLease(runId, deps.owner, deps.leaseMs);
    if (!lease) {
      const stored = await store.getRun(runId);
      if (!stored) throw new Error(`Cannot start run "${runId}": it no longer exists`);
      return stored;
    }
    active.lease = lease;
    job.lease = lease;
    active.leaseFreshAt = deps.clock.now();
  }
  // Another replica took the run over: stop its attempts; nothing more is written here.
  active.onLeaseLost ??= (error) => active.controller.abort(error);
  try {
    if (job.resume) await noteResume(deps, active, job.resume);
    else if (job.retry?.warning) {
      await appendLog(deps, active, {
        ts: iso(deps.clock.now()),
        level: "warn",
        msg: `Retry: ${job.retry.warning}`,
        runId,
      });
    }
    active.leaseFreshAt ??= deps.clock.now();
    const traced = deps.tracer?.trace(runId, job.record.traceparent, active.workflow);
    const hooks = persistHooks(deps, active);
    const record = await executeRun(active.workflow, {
      runner: leaseGatedRunner(deps, active),
      runId,
      input: job.record.input,
      trigger: job.record.trigger,
      resume: job.resume,
      retry: job.retry && !job.resume ? { of: job.retry.of, from: job.retry.from } : undefined,
      secrets: deps.secrets,
      config: deps.config,
      redact: deps.redact,
      signal: active.controller.signal,
      clock: deps.clock,
      cache: store.cache,
      k8s: deps.k8s,
      hooks: traced ? traced.hooks(hooks) : hooks,
      traceparent: traced?.traceparent,
      // A store that applies writes in call order lets a run's transitions share commits.
      pipelineHooks: store.ordersWrites === true,
      // A node's success must be stored before its children run: committed (SQLite: the
      // commit of the turn, shared by every run), else awaited (PostgreSQL).
      settleBeforeChildren: store.committed === undefined,
      beforeChildren: store.committed && (() => store.committed!()),
      validateInput: false,
      // Map items, steps and waits live in the store; a sleep or wait parks the run.
      durable: fencedState(store, active),
      park: true,
      ...(deps.runChild ? { runChild: deps.runChild } : {}),
    });
    // Taken over by another replica: its record is the truth.
    if (active.detached) return (await store.getRun(runId)) ?? storedView(active, record);
    return storedView(active, record);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (active.detached) {
      const stored = await store.getRun(runId);
      if (!stored) throw new Error(`Cannot read run "${runId}" after losing its lease`);
      return stored;
    }
    if (active.storeFailed) {
      throw new Error(
        `Cannot complete run "${runId}": the run store failed: ${detail}; it resumes after recovery`,
        { cause: error },
      );
    }
    // Anything else (a node output the store cannot serialise, no temp dir) fails the run.
    const failure = active.unstorable ?? {
      node: "",
      message: `Cannot execute run "${runId}": ${detail}`,
    };
    try {
      // Nodes the stopped executor could no longer record end cancelled, not "running".
      const stored = await store.getRun(runId);
      for (const [nodeId, node] of Object.entries(stored?.nodes ?? {})) {
        if (node.status !== "running" && node.status !== "pending") continue;
        await store.updateNode(runId, nodeId, {
          ...node,
          status: "cancelled",
          error: { message: deps.redact(`Cannot complete node "${nodeId}": ${failure.message}`) },
        }, active.lease);
      }
      await store.updateRun(runId, {
        status: RunStatus.Failed,
        error: { node: failure.node, message: deps.redact(failure.message) },
        finishedAt: iso(deps.clock.now()),
      }, active.lease);
    } catch (writeError) {
      if (!(writeError instanceof LeaseLostError)) throw writeError;
      active.detached = true;
      return (await store.getRun(runId)) ?? storedView(active, job.record);
    }
    return await finished(deps, runId);
  }
}

/**
 * The runner of one run, checking before each attempt that the lease still holds when it was
 * not renewed for half its length (the process was paused: GC, VM freeze, SIGSTOP): a replica
 * that lost the run then starts no attempt at all (the renewal is fenced by the lease epoch).
 */
function leaseGatedRunner(deps: RunDeps, active: ActiveRun): NodeRunner {
  const base = deps.runner;
  const gate = async () => {
    // A parent's output could not be stored: the run is failing; start nothing more.
    if (active.unstorable) throw new UnserializableValueError(active.unstorable.message);
    const { lease } = active;
    if (!lease || active.detached) {
      if (active.detached) throw new LeaseLostError(active.runId, deps.owner);
      return;
    }
    const now = deps.clock.now();
    if (now - (active.leaseFreshAt ?? now) < deps.leaseMs / 2) return;
    if (await deps.store.renewLease(active.runId, lease.owner, deps.leaseMs, lease.epoch)) {
      active.leaseFreshAt = now;
      return;
    }
    const stored = await deps.store.getRun(active.runId);
    if (stored?.status === RunStatus.Cancelled) {
      // Cancelled by another replica: this executor records its nodes' cancellation.
      const cancelled = new DOMException("The run was cancelled", "AbortError");
      active.controller.abort(cancelled);
      throw cancelled;
    }
    const error = new LeaseLostError(active.runId, lease.owner);
    if (!active.detached) {
      active.detached = true;
      active.onLeaseLost?.(error);
    }
    throw error;
  };
  const runner: NodeRunner = {
    run: async (call, signal) => {
      await gate();
      return await base.run(call, signal);
    },
    close: () => base.close(),
  };
  if (base.makeTmpDir) runner.makeTmpDir = (runId) => base.makeTmpDir!(runId);
  if (base.releaseTmpDir) runner.releaseTmpDir = (dir) => base.releaseTmpDir!(dir);
  return runner;
}

/** Reads a run that just ended, counts it and publishes its end. */
async function finished(deps: RunDeps, runId: string): Promise<RunRecord> {
  const record = await deps.store.getRun(runId);
  if (!record) throw new Error(`Cannot read run "${runId}" after it ended`);
  deps.metrics.runFinished(record);
  if (deps.hub.listening(runId)) {
    deps.hub.publish(runId, { type: "run", record: summaryOf(record) });
    deps.hub.publish(runId, { type: "end", record });
  }
  return record;
}

/** Continues the run's log numbering and notes the resumption (and a code change) in it. */
async function noteResume(deps: RunDeps, active: ActiveRun, previous: RunRecord): Promise<void> {
  active.logSeq = (await write(active, deps.store.getLogs(active.runId))).at(-1)?.seq ?? 0;
  const line = (level: "info" | "warn", msg: string) =>
    appendLog(deps, active, { ts: iso(deps.clock.now()), level, msg, runId: active.runId });
  const reused = Object.values(previous.nodes).filter((n) => n.status === "succeeded").length;
  await line("info", `Run resumed by "${deps.owner}" (${reused} succeeded nodes reused)`);
  if (previous.codeHash !== undefined && previous.codeHash !== active.workflow.codeHash) {
    await line(
      "warn",
      `Run resumed with different workflow code: started with ${previous.codeHash}, ` +
        `resumed with ${active.workflow.codeHash}`,
    );
  }
}

/** Ends a waiting run as cancelled (it never starts) and resolves with its stored record. */
export async function cancelWaitingRun(
  deps: RunDeps,
  job: Job,
  why: string,
): Promise<RunRecord> {
  const { runId } = job.record;
  const run: HookedRun = {
    runId,
    workflow: job.workflow,
    logSeq: 0,
    fixed: {},
    lease: job.lease,
  };
  run.logSeq = (await deps.store.getLogs(runId)).at(-1)?.seq ?? 0;
  await appendLog(deps, run, {
    ts: iso(deps.clock.now()),
    level: "info",
    msg: `Run cancelled before it started: ${why}`,
    runId,
  });
  await deps.store.updateRun(runId, {
    status: RunStatus.Cancelled,
    error: { node: "", message: `Cancelled before it started: ${why}` },
    finishedAt: iso(deps.clock.now()),
  }, job.lease);
  return await finished(deps, runId);
}
