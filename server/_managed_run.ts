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
import type { RunStore } from "../store/mod.ts";
import { summaryOf } from "./_run_hub.ts";
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
}

/** A run holding an execution slot. */
export interface ActiveRun extends HookedRun {
  controller: AbortController;
}

/** What executing a run needs from the manager. */
export interface RunDeps extends HookTargets {
  store: RunStore;
  runner: NodeRunner;
  secrets: Record<string, unknown>;
  redact: (text: string) => string;
  config: Record<string, unknown> | undefined;
  clock: Clock;
  owner: string;
  leaseMs: number;
  /** `ctx.k8s` of nodes with `capabilities.k8s` (ExecuteOptions.k8s). */
  k8s: ExecuteOptions["k8s"];
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
  if (options.claim && !(await store.claimRun(runId, deps.owner, deps.leaseMs))) {
    const stored = await store.getRun(runId);
    if (!stored) throw new Error(`Cannot start run "${runId}": it no longer exists`);
    return stored;
  }
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
    const traced = deps.tracer?.trace(runId, job.record.traceparent, active.workflow);
    const hooks = persistHooks(deps, active);
    const record = await executeRun(active.workflow, {
      runner: deps.runner,
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
      validateInput: false,
    });
    // Taken over by another replica: its record is the truth.
    if (active.detached) return (await store.getRun(runId)) ?? storedView(active, record);
    return storedView(active, record);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (active.storeFailed) {
      throw new Error(
        `Cannot complete run "${runId}": the run store failed: ${detail}; it resumes after recovery`,
        { cause: error },
      );
    }
    // Anything else (e.g. no temp dir could be made) fails the run for good.
    await store.updateRun(runId, {
      status: RunStatus.Failed,
      error: { node: "", message: deps.redact(`Cannot execute run "${runId}": ${detail}`) },
      finishedAt: iso(deps.clock.now()),
    });
    return await finished(deps, runId);
  }
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
  const run: HookedRun = { runId, workflow: job.workflow, logSeq: 0, fixed: {} };
  run.logSeq = (await deps.store.getLogs(runId)).at(-1)?.seq ?? 0;
  await appendLog(deps, run, {
    ts: iso(deps.clock.now()),
    level: "info",
    msg: `Run cancelled before it started: ${why}`,
    runId,
  });
  await deps.store.updateRun(runId, {
    status: RunStatus.Cancelled,
    finishedAt: iso(deps.clock.now()),
  });
  return await finished(deps, runId);
}
