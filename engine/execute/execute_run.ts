/**
 * The DAG executor: the one used by `exec`, `test`, `dev` and `serve`.
 *
 * @module
 */

import { systemClock } from "./_clock.ts";
import { dagPlan } from "./_dag_plan.ts";
import { type ExecuteHooks, HookChain } from "./_hook_chain.ts";
import type { Run } from "./_run.ts";
import { iso, redactDeep, redactLine, RunContext } from "./_run_context.ts";
import { runOnError } from "./_run_end.ts";
import { RunNodes } from "./_run_nodes.ts";
import { RunStop } from "./_run_stop.ts";
import { Scheduler } from "./_scheduler.ts";
import { RunDurable } from "./_run_durable.ts";
import { CANCELLED } from "./_run_stop.ts";
import type { DurableState } from "../durable_protocol.ts";
import { createMemoryDurableState } from "../durable_memory.ts";
import type { CompiledNode, CompiledWorkflow } from "../workflow_model.ts";
import type { LogLine, RunRecord } from "../run_record.ts";
import type {
  ChildRunner,
  Clock,
  FetchMock,
  K8sAccess,
  NodeCache,
  NodeRunner,
} from "../runner_protocol.ts";
import { NodeStatus, RunStatus } from "../run_record.ts";
import { validateInput } from "../workflow/validate_input.ts";

export type { ExecuteHooks } from "./_hook_chain.ts";

/** Options of {@link executeRun}. */
export interface ExecuteOptions {
  /** Runs the nodes. */
  runner: NodeRunner;
  /** The run input, given to root nodes. @default undefined (or `resume.input`) */
  input?: unknown;
  /** @default crypto.randomUUID() (or `resume.runId`) */
  runId?: string;
  /** Secrets keyed by service, as `ctx.secrets`. @default {} */
  secrets?: Record<string, unknown>;
  /**
   * The secrets of each sub-workflow, by its directory (`loadSubWorkflowSecrets()`), for the
   * in-process child runs; a sub-workflow without an entry gets none (never this run's).
   * `redact` should cover them too. @default {}
   */
  subWorkflowSecrets?: Record<string, Record<string, unknown>>;
  /** Overlay on `workflow.config` (shallow), as `ctx.config`. @default undefined */
  config?: Record<string, unknown>;
  /** Applied to every error message, stack and log line before hooks and the record see it. @default identity */
  redact?: (text: string) => string;
  /** Answers `ctx.fetch` instead of the network. @default undefined */
  fetchMock?: FetchMock;
  /**
   * Gives `ctx.k8s` to a node that declares `capabilities.k8s` (asked once per such node and
   * run; never for other nodes, which have no `ctx.k8s`). Return the transport restricted to
   * the node's rules (k8s's `guardK8sTransport`), or undefined for no `ctx.k8s`. A throw
   * fails the node, without retries.
   * @default undefined (no node has `ctx.k8s`)
   */
  k8s?: (node: CompiledNode) => K8sAccess | undefined;
  /** Cancels the run: attempts in flight are aborted, the run ends "cancelled". @default undefined */
  signal?: AbortSignal;
  /** Time source for timestamps, durations, timeouts and backoff. @default systemClock */
  clock?: Clock;
  /**
   * Per-run writable directory. When unset, one is created (by `runner.makeTmpDir` when the
   * runner has it, else `Deno.makeTempDir`) and removed after the run. @default undefined
   */
  tmpDir?: string;
  /** Runs only this node and its ancestors; the result is its output. @default undefined */
  target?: string;
  /** An earlier record of this run (crash recovery): its finished nodes are reused. @default undefined */
  resume?: RunRecord;
  /**
   * Retry of an earlier run (`POST /runs/:id/retry`, SPEC §11): the new run gets `retryOf`,
   * the earlier run's input unless `input` is given, and reuses the outputs of the nodes that
   * succeeded in it (`reusedFrom` on their records), except `from` and its descendants; every
   * other node runs. @default undefined
   */
  retry?: { of: RunRecord; from?: string };
  /** Node output cache for nodes with `cache:`. @default undefined */
  cache?: NodeCache;
  /** Recorded as `record.trigger`. @default undefined */
  trigger?: string;
  /** Awaited in order, so a store can persist each transition. @default {} */
  hooks?: ExecuteHooks;
  /**
   * Call each node and log hook as soon as its transition happens, without waiting for the
   * previous call to settle: calls still happen in transition order, all are awaited before the
   * run ends, and the first failure still stops the run. Only for hooks whose effects apply in
   * call order: e.g. `SqliteStore` writes, applied in call order and committed together once per
   * event-loop turn, so a run's transitions share commits instead of paying one each (not a
   * Postgres pool, whose concurrent writes may land out of order). The run's start and final
   * transitions are pipelined too: the final one is called behind the node transitions still
   * pending, so a store must not apply it when one of those fails later (`SqliteStore`: a failed
   * commit fails every write of its turn, a failed fsync every write after it).
   * @default false (each call waits for the previous one to settle)
   */
  pipelineHooks?: boolean;
  /**
   * A finished node's children start only once its hook calls settled (its final transition is
   * stored): for a store that cannot tell when a write is committed (PostgreSQL; SQLite has
   * `RunStore.committed`, see `beforeChildren`), so that a crash after a child ran never
   * re-runs its parent.
   * @default false
   */
  settleBeforeChildren?: boolean;
  /**
   * Awaited once a node ended and its hooks were called, before its children start: e.g. the
   * commit (not the fsync) of its final transition (`RunStore.committed`), so that a crash
   * after a child ran never re-runs its parent, while the nodes that end in one event-loop turn
   * share that commit. A rejection stops the run, as a hook failure does. Not used with
   * `settleBeforeChildren`.
   */
  beforeChildren?: () => Promise<void>;
  /** Check the input against `workflow.inputSchema` first (not on resume). @default true */
  validateInput?: boolean;
  /** Jitter source of the retry backoff, in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * Where map items, `ctx.step` results and waits are kept (SPEC §9–10): the run store in
   * dev/serve. @default createMemoryDurableState() (one per run)
   */
  durable?: DurableState;
  /**
   * Park the run at an unresolved sleep or wait: the run then ends `waiting` (its record has
   * no result yet) and is resumed (`resume:`) once the wait resolves. Without it the executor
   * sleeps on its clock, and a wait takes its event from `events` (or times out).
   * @default false
   */
  park?: boolean;
  /** Payloads of the events wait nodes receive when not parking (exec, fixtures). @default {} */
  events?: Record<string, unknown>;
  /**
   * The clock sleep and wait nodes wait on when not parking, e.g. one whose `sleep()` returns
   * at once (fixtures: a `sleep: 10m` takes no time). @default `clock`
   */
  waitClock?: Clock;
  /**
   * Runs the child runs of `workflow:` nodes (dev/serve: as stored runs). @default in process:
   * `executeRun()` of the child workflow with this run's runner, clock, durable state and
   * events, and the child's own secrets from `subWorkflowSecrets` (its nodes keep their own
   * capabilities and secret scoping)
   */
  runChild?: ChildRunner;
  /** Recorded as `record.parentRunId` / `parentNode` (a child run). @default undefined */
  parent?: { runId: string; node: string };
  /**
   * Called as each attempt starts; its answer (a W3C `traceparent`, e.g. of the attempt's span)
   * is sent by the node's `ctx.fetch`. @default undefined (no header)
   */
  traceparent?: (node: string, attempt: number) => string | undefined;
}

function ignoreLog(_line: LogLine): void {}

/** @throws {TypeError} or {RangeError} when the retry cannot apply to `workflow` */
function checkRetry(
  workflow: CompiledWorkflow,
  index: Map<string, number>,
  retry: NonNullable<ExecuteOptions["retry"]>,
  resume: RunRecord | undefined,
): void {
  if (resume) throw new TypeError("Cannot both resume and retry a run");
  if (retry.of.workflow !== workflow.name) {
    throw new TypeError(
      `Cannot retry run "${retry.of.runId}": it belongs to workflow "${retry.of.workflow}", ` +
        `not "${workflow.name}"`,
    );
  }
  if (retry.from !== undefined && !index.has(retry.from)) {
    throw new RangeError(
      `Cannot retry run "${retry.of.runId}" from node "${retry.from}": no such node in ` +
        `workflow "${workflow.name}"; nodes: ${workflow.order.join(", ")}`,
    );
  }
}

/**
 * Executes `workflow` once and resolves with its run record (SPEC §6); a failed or cancelled
 * run resolves too, with `status` saying so.
 *
 * Semantics (SPEC §3): a node starts as soon as all its parents are done, up to
 * `settings.maxParallel` at once. A root gets the run input, a node with one declared parent
 * that parent's output, a node with several `{ [parentId]: output }` of the parents that fired
 * to it. `routes` choose which children fire; a node whose parents all skipped it is skipped.
 * Each attempt's signal aborts at `timeoutMs` (0 disables it) with a TimeoutError, and the
 * attempt counts as failed at once even if the runner never settles; failures are retried
 * `retries` times with exponential backoff and jitter (see `backoffDelay`) unless the error
 * is `nonRetryable`. Hooks run one at a time in transition order (or overlap, still in order,
 * with `pipelineHooks`); without hooks nothing is copied or queued. Log lines are redacted and go to `hooks.onLog`, or are dropped.
 *
 * Final statuses: when a node finally fails (fail-fast, the default) or the run is cancelled,
 * nodes that were running or waiting to retry end `cancelled`, nodes that never started end
 * `skipped`; no node ends `pending` or `running`. With `failFast: false` the failed node's
 * dependents are skipped (even when another parent succeeded) and independent branches
 * finish. A node with `allowFailure` ends `failed` without failing the run and its children
 * get `{ error: { message } }`. A cache hit ends `succeeded` with `cached: true` and
 * `attempts: 0`. A failure that happened before a cancellation keeps the run `failed`.
 * `nodes` holds the executed nodes only (the target and its ancestors with `target`), plus
 * the onError node when it ran. Resume reuses succeeded nodes (and failed `allowFailure`
 * ones) with their outputs and routes; skips are derived again from them.
 *
 * @throws {InputValidationError} when the input does not match `inputSchema` (no node runs)
 * @throws {RangeError} when `target` is not a node of the workflow
 * @throws {TypeError} when `resume` is a run of another workflow
 * @throws the first error thrown by a hook: the run is then aborted as if cancelled
 * @example
 * ```ts
 * import { executeRun } from "./execute_run.ts";
 * import type { CompiledWorkflow } from "../workflow_model.ts";
import type { NodeRunner } from "../runner_protocol.ts";
 * declare const workflow: CompiledWorkflow;
 * declare const runner: NodeRunner;
 * const record = await executeRun(workflow, { runner, input: { user: "ada" } });
 * if (record.status === "succeeded") console.log(record.result);
 * ```
 */
export async function executeRun(
  workflow: CompiledWorkflow,
  options: ExecuteOptions,
): Promise<RunRecord> {
  const { resume, signal, hooks } = options;
  if (resume && resume.workflow !== workflow.name) {
    throw new TypeError(
      `Cannot resume run "${resume.runId}": it belongs to workflow "${resume.workflow}", ` +
        `not "${workflow.name}"`,
    );
  }
  const plan = dagPlan(workflow);
  let target: number | undefined;
  if (options.target !== undefined) {
    target = plan.index.get(options.target);
    if (target === undefined) {
      throw new RangeError(
        `Cannot run target "${options.target}": no such node in workflow "${workflow.name}"; ` +
          `nodes: ${plan.ids.slice(0, 20).join(", ")}${plan.ids.length > 20 ? ", …" : ""}`,
      );
    }
  }
  const retry = options.retry;
  if (retry) checkRetry(workflow, plan.index, retry, resume);
  const input = options.input !== undefined ? options.input : (resume ?? retry?.of)?.input;
  if (!resume && options.validateInput !== false) validateInput(workflow, input);

  const clock = options.clock ?? systemClock;
  const runId = options.runId ?? resume?.runId ?? crypto.randomUUID();
  const ownTmpDir = options.tmpDir === undefined;
  const release = options.runner.makeTmpDir ? options.runner.releaseTmpDir : undefined;
  const tmpDir = options.tmpDir ??
    await (options.runner.makeTmpDir?.(runId) ??
      Deno.makeTempDir({ prefix: "pipedreamer-run-" }));
  const startedMs = clock.now();
  const record: RunRecord = {
    runId,
    workflow: workflow.name,
    version: workflow.version,
    status: RunStatus.Running,
    input,
    startedAt: resume?.startedAt ?? iso(startedMs),
    nodes: {},
    codeHash: workflow.codeHash,
  };
  if (options.trigger !== undefined) record.trigger = options.trigger;
  if (options.parent) {
    record.parentRunId = options.parent.runId;
    record.parentNode = options.parent.node;
  }
  const retryOf = retry?.of.runId ?? resume?.retryOf;
  const retryFrom = retry ? retry.from : resume?.retryFrom;
  if (retryOf !== undefined) record.retryOf = retryOf;
  if (retryFrom !== undefined) record.retryFrom = retryFrom;
  if (options.config && Object.keys(options.config).length > 0) {
    record.config = options.redact
      ? redactDeep(options.config, options.redact, 0) as Record<string, unknown>
      : options.config;
  }
  const redact = options.redact;
  const logHook = hooks?.onLog;
  const nodes = new RunNodes(record, plan);
  // The record stores and shows secrets redacted; the nodes get the original data.
  if (redact) record.input = redactDeep(input, redact, 0);
  const stop = new RunStop(nodes, workflow.settings.failFast);
  const chain = new HookChain(
    hooks,
    options.pipelineHooks === true,
    options.settleBeforeChildren === true ? "settled" : options.beforeChildren,
    runId,
    record,
    (error) =>
      stop.stop(
        error,
        `the run was aborted: a hook failed: ${redact ? redact(String(error)) : String(error)}`,
      ),
  );
  const ctx = new RunContext({
    workflow,
    plan,
    runId,
    runner: options.runner,
    clock,
    random: options.random ?? Math.random,
    config: options.config ? { ...workflow.config, ...options.config } : workflow.config,
    secrets: options.secrets ?? {},
    tmpDir,
    fetchMock: options.fetchMock,
    k8s: options.k8s,
    cache: options.cache,
    traceparent: options.traceparent,
    redact,
    onLog: logHook
      ? (line) => {
        const clean = redact ? redactLine(line, redact) : line;
        chain.enqueue(() => logHook(clean));
      }
      : ignoreLog,
  });
  const state = options.durable ?? createMemoryDurableState();
  const runChild: ChildRunner = options.runChild ?? ((request) =>
    executeRun(request.workflow, {
      ...options,
      input: request.input,
      runId: request.runId,
      signal: request.signal,
      secrets: options.subWorkflowSecrets?.[request.workflow.dir] ?? {},
      durable: state,
      parent: { runId: request.parentRunId, node: request.parentNode },
      config: undefined,
      tmpDir: undefined,
      target: undefined,
      resume: undefined,
      retry: undefined,
      trigger: "workflow",
      hooks: undefined,
      validateInput: true,
    }));
  const durable = new RunDurable(
    state,
    options.park === true,
    options.events ?? {},
    runChild,
    options.waitClock,
  );
  const run: Run = { ctx, nodes, stop, hooks: chain, durable };
  const scheduler = new Scheduler(run, workflow.settings.maxParallel);
  const onAbort = () => stop.cancel(signal?.reason);
  try {
    nodes.createSlots(workflow, plan, target, resume ?? retry?.of, retry);
    if (hooks?.onRunUpdate) {
      // Pipelined, the run's start shares its store commit with the first node transitions.
      const started = { ...record };
      if (chain.pipelined) chain.enqueue(() => hooks.onRunUpdate!(started));
      else await hooks.onRunUpdate(record);
    }
    // A retry's reused nodes are new to this run's record: report them like any transition.
    if (retry) { for (const slot of nodes.slots) if (slot?.resumed) chain.emitNode(slot); }
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    await scheduler.start();
    signal?.removeEventListener("abort", onAbort);
    // Parked: the run ends `waiting`, its other nodes stay as they are until it resumes.
    const parked = durable.parked.size > 0 && !stop.failure && !stop.cancelled && !chain.failed;
    for (const slot of nodes.slots) {
      if (!parked && slot?.rec.status === NodeStatus.Waiting) {
        slot.rec.status = NodeStatus.Cancelled;
        delete slot.rec.waitingFor;
        slot.rec.error = { message: `Cannot complete node "${slot.id}": ${stop.why || CANCELLED}` };
        chain.emitNode(slot);
      } else if (!parked && slot?.rec.status === NodeStatus.Pending) {
        slot.rec.status = NodeStatus.Skipped;
        chain.emitNode(slot);
      }
    }
    if (parked) {
      await chain.settled();
      if (chain.failed) throw chain.error;
      record.status = RunStatus.Waiting;
      if (hooks?.onRunUpdate) await hooks.onRunUpdate(record);
      return record;
    }
    if (stop.failure && workflow.onError && !chain.failed) await runOnError(run, signal);
    if (!chain.pipelined) {
      await chain.settled();
      if (chain.failed) throw chain.error;
    }

    const finishedMs = clock.now();
    record.finishedAt = iso(finishedMs);
    record.durationMs = resume?.startedAt
      ? Math.max(0, finishedMs - Date.parse(resume.startedAt))
      : finishedMs - startedMs;
    if (stop.failure) {
      record.status = RunStatus.Failed;
      record.error = stop.failure;
    } else if (stop.cancelled) {
      record.status = RunStatus.Cancelled;
    } else {
      record.status = RunStatus.Succeeded;
      record.result = ctx.redactValue(nodes.result(target === undefined ? plan.sinks : [target]));
    }
    if (chain.pipelined) {
      // The final transition is called behind the pending ones instead of after they settled,
      // so it can share their commit; a failure of any of them still fails the run.
      if (hooks?.onRunUpdate && !chain.failed) chain.enqueue(() => hooks.onRunUpdate!(record));
      await chain.settled();
      if (chain.failed) throw chain.error;
    } else if (hooks?.onRunUpdate) await hooks.onRunUpdate(record);
    return record;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (ownTmpDir) {
      await (release
        ? release.call(options.runner, tmpDir)
        : Deno.remove(tmpDir, { recursive: true })).catch(() => {});
    }
  }
}
