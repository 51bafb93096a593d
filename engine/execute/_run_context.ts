/**
 * The read-only context of a run: what every part reads and none changes (workflow, plan,
 * runner, clock, config, secrets, tmpDir, mocks, cache, redaction), and the helpers built on
 * it alone: redaction, error conversion and the executor's own log lines.
 *
 * @module
 */

import type { DagPlan } from "./_dag_plan.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import type { CompiledNode, CompiledWorkflow } from "../workflow_model.ts";
import type { ErrorInfo, LogLevel, LogLine } from "../run_record.ts";
import type { Clock, FetchMock, K8sAccess, NodeCache, NodeRunner } from "../runner_protocol.ts";

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

/** What `RunContext` is made of. */
export interface RunContextInit {
  workflow: CompiledWorkflow;
  plan: DagPlan;
  runId: string;
  runner: NodeRunner;
  clock: Clock;
  random: () => number;
  config: Record<string, unknown>;
  secrets: Record<string, unknown>;
  tmpDir: string;
  fetchMock: FetchMock | undefined;
  k8s: ((node: CompiledNode) => K8sAccess | undefined) | undefined;
  cache: NodeCache | undefined;
  redact: ((text: string) => string) | undefined;
  onLog: (line: LogLine) => void;
  /** `ExecuteOptions.traceparent`. */
  traceparent?: (node: string, attempt: number) => string | undefined;
}

type K8sEntry = { access?: K8sAccess; failed?: boolean; error?: unknown };

/** Everything of a run that does not change while it runs; created by `executeRun()`. */
export class RunContext {
  readonly workflow: CompiledWorkflow;
  readonly plan: DagPlan;
  readonly runId: string;
  readonly runner: NodeRunner;
  readonly clock: Clock;
  /** Jitter source of the retry backoff. */
  readonly random: () => number;
  readonly config: Record<string, unknown>;
  readonly secrets: Record<string, unknown>;
  readonly tmpDir: string;
  readonly fetchMock: FetchMock | undefined;
  readonly cache: NodeCache | undefined;
  readonly redact: ((text: string) => string) | undefined;
  /** The `onLog` passed in every NodeCall (redacts, then queues on the hook chain). */
  readonly onLog: (line: LogLine) => void;
  /** `ExecuteOptions.traceparent`. */
  readonly traceparent: ((node: string, attempt: number) => string | undefined) | undefined;
  /** `ExecuteOptions.k8s`. */
  private readonly k8s: ((node: CompiledNode) => K8sAccess | undefined) | undefined;
  /** Its answer per node id, asked once per run (a throw is kept and fails every attempt). */
  private readonly k8sAnswers = new Map<string, K8sEntry>();

  constructor(init: RunContextInit) {
    this.workflow = init.workflow;
    this.plan = init.plan;
    this.runId = init.runId;
    this.runner = init.runner;
    this.clock = init.clock;
    this.random = init.random;
    this.config = init.config;
    this.secrets = init.secrets;
    this.tmpDir = init.tmpDir;
    this.fetchMock = init.fetchMock;
    this.traceparent = init.traceparent;
    this.k8s = init.k8s;
    this.cache = init.cache;
    this.redact = init.redact;
    this.onLog = init.onLog;
  }

  /**
   * The node's `ctx.k8s`, asked of `ExecuteOptions.k8s` once per run; undefined for a node
   * that declares no `capabilities.k8s`.
   *
   * @throws {NodeFailure} (not retryable) when the factory threw, e.g. no kubeconfig
   */
  k8sAccess(node: CompiledNode): K8sAccess | undefined {
    const declared = node.capabilities.k8s;
    if (!this.k8s || declared === undefined || declared === null || declared === false) {
      return undefined;
    }
    let entry = this.k8sAnswers.get(node.id);
    if (!entry) {
      try {
        entry = { access: this.k8s(node) };
      } catch (error) {
        entry = { failed: true, error };
      }
      this.k8sAnswers.set(node.id, entry);
    }
    if (entry.failed) {
      const { error } = entry;
      if (error instanceof NodeFailure) throw error;
      throw new NodeFailure(
        `Cannot give node "${node.id}" ctx.k8s: ${error instanceof Error ? error.message : error}`,
        { nonRetryable: true, cause: error },
      );
    }
    return entry.access;
  }

  /** Emits a log line of the executor itself (cache problems, onError failures). */
  logLine(level: LogLevel, node: string, msg: string): void {
    this.onLog({ ts: iso(this.clock.now()), level, msg, runId: this.runId, node });
  }

  redactText(text: string): string {
    return this.redact ? this.redact(text) : text;
  }

  /**
   * A copy of `value` with every string redacted, as the record stores and shows it (inputs,
   * outputs, results); `value` itself when there is no redaction. Children still get the
   * original.
   */
  redactValue(value: unknown): unknown {
    return this.redact ? redactDeep(value, this.redact, 0) : value;
  }

  /** The redacted, serialisable form of a node failure. */
  errorInfo(error: unknown): ErrorInfo {
    if (error instanceof NodeFailure) {
      const info: ErrorInfo = { message: this.redactText(error.message) };
      const name = error.remoteName ??
        (error.kind === FailureKind.Timeout
          ? "TimeoutError"
          : error.kind === FailureKind.Cancelled
          ? "AbortError"
          : undefined);
      if (name) info.name = name;
      if (error.remoteStack) info.stack = this.redactText(error.remoteStack);
      if (error.capability) info.capability = error.capability;
      return info;
    }
    if (error instanceof Error) {
      const info: ErrorInfo = { message: this.redactText(error.message), name: error.name };
      if (error.stack) info.stack = this.redactText(error.stack);
      return info;
    }
    return { message: this.redactText(messageOf(error)) };
  }
}

/** A copy of `value` with every string (keys included) redacted, to a depth of 32. */
export function redactDeep(
  value: unknown,
  redact: (text: string) => string,
  depth: number,
): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object" || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[redact(k)] = redactDeep(v, redact, depth + 1);
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
