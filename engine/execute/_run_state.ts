/**
 * The mutable state of one run inside the executor, and the helpers every part of it shares:
 * hook emission (one ordered chain), redaction, error conversion and stopping.
 *
 * @module
 */

import type { DagPlan } from "./_dag_plan.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import type { CompiledNode, CompiledWorkflow } from "../workflow_model.ts";
import type { ErrorInfo, LogLevel, LogLine, NodeRecord, RunRecord } from "../run_record.ts";
import type { Clock, FetchMock, K8sAccess, NodeCache, NodeRunner } from "../runner_protocol.ts";

/** The executor's hooks (see `ExecuteOptions.hooks`). */
export interface ExecuteHooks {
  /** Called when the run starts and when it ends. */
  onRunUpdate?(record: RunRecord): void | Promise<void>;
  /**
   * Called on every node transition: running, retry (attempts + 1), succeeded, failed,
   * skipped, cancelled, and on progress reports. `node` is a snapshot taken at the
   * transition; `record` is the live run record.
   */
  onNodeUpdate?(
    runId: string,
    nodeId: string,
    node: NodeRecord,
    record: RunRecord,
  ): void | Promise<void>;
  /** Receives every log line, already redacted. Without it, log lines are dropped. */
  onLog?(line: LogLine): void | Promise<void>;
}

/** One node of the run: its scheduling counters, its record and its result. */
export class Slot {
  /** Parents not done yet. */
  remaining: number;
  /** Done parents that fired to this node (not skipped, routed here). */
  live = 0;
  /** A parent failed, was cancelled or was skipped because of a failure. */
  poisoned = false;
  /** Reused from `ExecuteOptions.resume`: not executed again. */
  resumed = false;
  input: unknown = undefined;
  /** What children receive: the output, or `{ error: { message } }` after an allowed failure. */
  output: unknown = undefined;
  routes: string[] | undefined = undefined;
  /** Aborts the attempt in flight, if any. */
  abort: ((reason: unknown, failure: NodeFailure) => void) | undefined = undefined;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly node: CompiledNode,
    public rec: NodeRecord,
    remaining: number,
  ) {
    this.remaining = remaining;
  }
}

/** Everything one run needs; created by `executeRun()`. */
export interface RunState {
  workflow: CompiledWorkflow;
  plan: DagPlan;
  slots: (Slot | undefined)[];
  record: RunRecord;
  runId: string;
  runner: NodeRunner;
  clock: Clock;
  random: () => number;
  config: Record<string, unknown>;
  secrets: Record<string, unknown>;
  tmpDir: string;
  fetchMock: FetchMock | undefined;
  /** `ExecuteOptions.k8s`. */
  k8s: ((node: CompiledNode) => K8sAccess | undefined) | undefined;
  /** Its answer per node id, asked once per run (a throw is kept and fails every attempt). */
  k8sAccess: Map<string, { access?: K8sAccess; failed?: boolean; error?: unknown }>;
  cache: NodeCache | undefined;
  redact: ((text: string) => string) | undefined;
  onNodeUpdate: ExecuteHooks["onNodeUpdate"];
  /** The `onLog` passed in every NodeCall. */
  onLog: (line: LogLine) => void;
  /** Serialises hook calls in transition order. */
  chain: Promise<void>;
  /** `ExecuteOptions.pipelineHooks`. */
  pipelineHooks: boolean;
  hookFailed: boolean;
  hookError: unknown;
  /** Aborted when the DAG stops (fail-fast, cancellation, hook failure). */
  stopController: AbortController;
  stopping: boolean;
  /** Message for nodes cancelled by the stop, e.g. `the run was cancelled`. */
  stopWhy: string;
  cancelled: boolean;
  failFast: boolean;
  failure: { node: string; message: string } | undefined;
  maxParallel: number;
  ready: Slot[];
  readyHead: number;
  active: number;
  /** Reused work list of the skip/ready propagation. */
  stack: Slot[];
  resolveDone: () => void;
}

/** Why nodes end cancelled when the run's signal aborts. */
export const CANCELLED = "the run was cancelled";

let isoMs = NaN;
let isoText = "";

/** Epoch milliseconds as ISO 8601 (the last one is cached: nodes finish within a ms). */
export function iso(ms: number): string {
  if (ms !== isoMs) {
    isoText = new Date(ms).toISOString();
    isoMs = ms;
  }
  return isoText;
}

/**
 * Queues a hook call behind every earlier one (or, with `pipelineHooks`, calls it now and
 * awaits it behind every earlier one); the first hook failure stops the run.
 */
export function enqueueHook(s: RunState, call: () => void | Promise<void>): void {
  const failed = (error: unknown) => {
    if (s.hookFailed) return;
    s.hookFailed = true;
    s.hookError = error;
    stopRun(s, error, `the run was aborted: a hook failed: ${redactText(s, String(error))}`);
  };
  if (!s.pipelineHooks) {
    s.chain = s.chain.then(() => s.hookFailed ? undefined : call()).catch(failed);
    return;
  }
  if (s.hookFailed) return;
  let done: Promise<void>;
  try {
    done = Promise.resolve(call());
  } catch (error) {
    done = Promise.reject(error);
  }
  done.catch(() => {}); // handled in order, by the chain below
  s.chain = s.chain.then(() => done).catch(failed);
}

/** Reports the current state of `slot` to `onNodeUpdate`; free when there is no hook. */
export function emitNode(s: RunState, slot: Slot): void {
  const hook = s.onNodeUpdate;
  if (!hook) return;
  const snapshot = { ...slot.rec };
  enqueueHook(s, () => hook(s.runId, slot.id, snapshot, s.record));
}

/** Emits a log line of the executor itself (cache problems, onError failures). */
export function logLine(s: RunState, level: LogLevel, node: string, msg: string): void {
  s.onLog({ ts: iso(s.clock.now()), level, msg, runId: s.runId, node });
}

export function redactText(s: RunState, text: string): string {
  return s.redact ? s.redact(text) : text;
}

/** A copy of `value` with every string redacted (keys are kept). */
export function redactDeep(
  value: unknown,
  redact: (text: string) => string,
  depth = 0,
): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object" || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact, depth + 1);
  return out;
}

/** A copy of `line` with the message and every string in `fields` redacted. */
export function redactLine(line: LogLine, redact: (text: string) => string): LogLine {
  const clean = { ...line, msg: redact(line.msg) };
  if (line.fields) clean.fields = redactDeep(line.fields, redact, 0) as Record<string, unknown>;
  return clean;
}

function messageOf(error: unknown): string {
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** The redacted, serialisable form of a node failure. */
export function errorInfo(s: RunState, error: unknown): ErrorInfo {
  if (error instanceof NodeFailure) {
    const info: ErrorInfo = { message: redactText(s, error.message) };
    const name = error.remoteName ??
      (error.kind === FailureKind.Timeout
        ? "TimeoutError"
        : error.kind === FailureKind.Cancelled
        ? "AbortError"
        : undefined);
    if (name) info.name = name;
    if (error.remoteStack) info.stack = redactText(s, error.remoteStack);
    if (error.capability) info.capability = error.capability;
    return info;
  }
  if (error instanceof Error) {
    const info: ErrorInfo = { message: redactText(s, error.message), name: error.name };
    if (error.stack) info.stack = redactText(s, error.stack);
    return info;
  }
  return { message: redactText(s, messageOf(error)) };
}

/**
 * Stops the DAG: nothing new starts, backoff sleeps end, and every attempt in flight is
 * aborted with `reason` and settles at once as cancelled, whether or not its runner reacts.
 */
export function stopRun(s: RunState, reason: unknown, why: string): void {
  if (s.stopping) return;
  s.stopping = true;
  s.stopWhy = why;
  s.stopController.abort(reason);
  for (const slot of s.slots) {
    if (slot?.abort) {
      slot.abort(
        reason,
        new NodeFailure(`Cannot complete node "${slot.id}": ${why}`, {
          kind: FailureKind.Cancelled,
          cause: reason,
        }),
      );
    }
  }
}
