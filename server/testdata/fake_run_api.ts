/**
 * An in-memory {@link RunApi} for handler tests: it behaves like the run manager for what the
 * HTTP layer sees (input validation, idempotency, paging with opaque cursors, ordered events,
 * cancel), and lets the test decide when and how each run ends.
 *
 * @module
 */

import {
  type CompiledWorkflow,
  isFinishedStatus,
  type ListMapItemsOptions,
  type NodeRecord,
  type RunRecord,
  type RunStatus,
  validateInput,
} from "../../engine/mod.ts";
import type { GetLogsOptions, ListRunsOptions, RunPage, StoredLogLine } from "../../store/mod.ts";
import type { RunAndWaitOptions, RunApi, RunEvent, SubmitOptions } from "../_run_api.ts";
import { DrainingError, QueueFullError, RetryError } from "../errors.ts";
import type { RetryOptions } from "../_retry.ts";
import { EventRejectedError } from "../_durable_runs.ts";

/** See the module docs. */
export class FakeRunApi implements RunApi {
  readonly workflow: CompiledWorkflow;
  /** Unfinished runs at most; beyond it submit throws a queue-full error. */
  queueLimit = Infinity;
  draining = false;
  /** When set, every run started by `runAndWait` ends at once with what it returns. */
  autoFinish?: (record: RunRecord) => { status: RunStatus; result?: unknown };
  /** Thrown by every method when set (a broken store). */
  failWith?: Error;
  readonly runs = new Map<string, RunRecord>();
  readonly #order: string[] = [];
  readonly #logs = new Map<string, StoredLogLine[]>();
  readonly #keys = new Map<string, string>();
  readonly #listeners = new Map<string, Set<(event: RunEvent) => void>>();
  readonly #waiters = new Map<string, ((record: RunRecord) => void)[]>();
  #next = 1;

  constructor(workflow: CompiledWorkflow) {
    this.workflow = workflow;
  }

  /** Events sent with `signal()`, in order. */
  readonly events: { runId: string; event: string; payload: unknown }[] = [];

  signal(runId: string, event: string, payload: unknown): Promise<RunRecord> {
    return Promise.resolve().then(() => {
      const run = this.runs.get(runId);
      if (!run) throw new EventRejectedError(`Cannot find run "${runId}"`, "unknown-run");
      const waiting = Object.entries(run.nodes).find(([, node]) =>
        node.status === "waiting" && node.waitingFor?.event === event
      );
      if (!waiting) {
        throw new EventRejectedError(
          `Cannot send event "${event}" to run "${runId}": it waits for no such event`,
          "not-waiting",
        );
      }
      this.events.push({ runId, event, payload });
      run.nodes[waiting[0]] = { status: "succeeded", attempts: 1, output: payload };
      return structuredClone(run);
    });
  }

  listMapItems(_runId: string, _nodeId: string, options: ListMapItemsOptions = {}) {
    const from = Number(options.cursor ?? 0);
    const limit = options.limit ?? 100;
    const items = Array.from({ length: 5 }, (_, index) => ({
      index,
      status: "succeeded" as const,
      attempts: 1,
      output: index,
    })).slice(from, from + limit);
    const next = from + limit < 5 ? String(from + limit) : undefined;
    return Promise.resolve({ items, nextCursor: next });
  }

  submit(input: unknown, options: SubmitOptions = {}) {
    return Promise.resolve().then(() => {
      if (this.failWith) throw this.failWith;
      if (this.draining) throw new DrainingError("Cannot start run: the server is draining");
      const existing = options.idempotencyKey && this.#keys.get(options.idempotencyKey);
      if (existing) return { runId: existing, created: false };
      validateInput(this.workflow, input);
      const unfinished = [...this.runs.values()].filter((r) => !isFinishedStatus(r.status));
      if (unfinished.length >= this.queueLimit) {
        throw new QueueFullError(`Cannot queue run: ${this.queueLimit} runs are waiting`);
      }
      const runId = `run-${String(this.#next++).padStart(4, "0")}`;
      this.runs.set(runId, {
        runId,
        workflow: this.workflow.name,
        version: this.workflow.version,
        status: "running",
        input,
        startedAt: new Date(0).toISOString(),
        nodes: {},
        trigger: options.trigger,
        codeHash: this.workflow.codeHash,
      });
      this.#order.unshift(runId);
      this.#logs.set(runId, []);
      if (options.idempotencyKey) this.#keys.set(options.idempotencyKey, runId);
      return { runId, created: true };
    });
  }

  async runAndWait(input: unknown, options: RunAndWaitOptions = {}) {
    const { runId } = await this.submit(input, options);
    const done = this.wait(runId);
    if (this.autoFinish) {
      const { status, result } = this.autoFinish(this.runs.get(runId)!);
      this.finish(runId, status, result);
    }
    return await done;
  }

  /** Resolves when `runId` finishes. */
  wait(runId: string): Promise<RunRecord> {
    const record = this.runs.get(runId)!;
    if (isFinishedStatus(record.status)) return Promise.resolve(structuredClone(record));
    return new Promise((resolve) => {
      this.#waiters.set(runId, [...(this.#waiters.get(runId) ?? []), resolve]);
    });
  }

  cancel(runId: string): Promise<RunRecord | undefined> {
    if (!this.runs.has(runId)) return Promise.resolve(undefined);
    const record = this.runs.get(runId)!;
    if (!isFinishedStatus(record.status)) this.finish(runId, "cancelled");
    return Promise.resolve(structuredClone(this.runs.get(runId)));
  }

  /** A retry: a new run with the same input and `retryOf` (no reuse: the fake runs nothing). */
  async retry(runId: string, options: RetryOptions = {}) {
    const of = this.runs.get(runId);
    if (!of) throw new RetryError("not_found", `Cannot find run "${runId}"`);
    if (!isFinishedStatus(of.status)) throw new RetryError("conflict", `run ${of.status}`);
    if (options.from !== undefined && !this.workflow.order.includes(options.from)) {
      throw new RetryError("bad_request", `no node "${options.from}"`);
    }
    const { runId: id } = await this.submit(of.input, { trigger: "retry" });
    this.runs.get(id)!.retryOf = runId;
    return { runId: id, retryOf: runId };
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    if (this.failWith) return Promise.reject(this.failWith);
    const record = this.runs.get(runId);
    return Promise.resolve(record && structuredClone(record));
  }

  /** The options of the last listRuns() call. */
  lastListOptions: ListRunsOptions | undefined;

  listRuns(options: ListRunsOptions = {}): Promise<RunPage> {
    this.lastListOptions = options;
    const statuses = options.status === undefined
      ? undefined
      : Array.isArray(options.status)
      ? options.status
      : [options.status];
    const limit = options.limit ?? 50;
    let start = 0;
    if (options.cursor !== undefined) {
      const match = /^c(\d+)$/.exec(options.cursor);
      if (!match) return Promise.reject(new TypeError("Cannot list runs: malformed cursor"));
      start = Number(match[1]);
    }
    const ids = this.#order.filter((id) =>
      statuses === undefined || statuses.includes(this.runs.get(id)!.status)
    );
    const runs = ids.slice(start, start + limit).map((id) => {
      const { nodes: _nodes, ...summary } = structuredClone(this.runs.get(id)!);
      return summary;
    });
    const nextCursor = start + limit < ids.length ? `c${start + limit}` : undefined;
    return Promise.resolve({ runs, nextCursor });
  }

  getLogs(runId: string, options: GetLogsOptions = {}): Promise<StoredLogLine[]> {
    const lines = (this.#logs.get(runId) ?? []).filter((line) =>
      line.seq > (options.afterSeq ?? 0) &&
      (options.node === undefined || line.node === options.node)
    );
    return Promise.resolve(structuredClone(lines.slice(0, options.limit ?? lines.length)));
  }

  subscribe(runId: string, listener: (event: RunEvent) => void): () => void {
    const set = this.#listeners.get(runId) ?? new Set();
    set.add(listener);
    this.#listeners.set(runId, set);
    return () => set.delete(listener);
  }

  /** Subscribers of `runId` right now. */
  subscribers(runId: string): number {
    return this.#listeners.get(runId)?.size ?? 0;
  }

  metrics(): Promise<string> {
    const counts = new Map<string, number>();
    for (const run of this.runs.values()) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
    return Promise.resolve(
      [
        "# TYPE pipedreamer_runs_total counter",
        ...[...counts].map(([status, n]) => `pipedreamer_runs_total{status="${status}"} ${n}`),
        "",
      ].join("\n"),
    );
  }

  /** Appends a log line (persisted, then published, like the manager). */
  log(runId: string, msg: string, node?: string): StoredLogLine {
    const lines = this.#logs.get(runId)!;
    const line: StoredLogLine = {
      seq: lines.length + 1,
      ts: new Date(0).toISOString(),
      level: "info",
      msg,
      runId,
      node,
    };
    lines.push(line);
    this.#publish(runId, { type: "log", line: structuredClone(line) });
    return line;
  }

  /** Records a node transition. */
  node(runId: string, nodeId: string, node: NodeRecord): void {
    this.runs.get(runId)!.nodes[nodeId] = node;
    this.#publish(runId, { type: "node", runId, nodeId, node: structuredClone(node) });
  }

  /** Ends a run. */
  finish(runId: string, status: RunStatus, result?: unknown): void {
    const record = this.runs.get(runId)!;
    Object.assign(record, { status, result, finishedAt: new Date(1).toISOString() });
    if (status === "failed") record.error = { node: "greet", message: "boom" };
    const { nodes: _nodes, ...summary } = structuredClone(record);
    this.#publish(runId, { type: "run", record: summary });
    this.#publish(runId, { type: "end", record: structuredClone(record) });
    for (const resolve of this.#waiters.get(runId) ?? []) resolve(structuredClone(record));
    this.#waiters.delete(runId);
  }

  #publish(runId: string, event: RunEvent): void {
    for (const listener of [...(this.#listeners.get(runId) ?? [])]) listener(event);
  }
}
