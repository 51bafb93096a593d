/**
 * Executes one node within a run: cache lookup, attempts with timeout, retries with backoff,
 * route checks, and the node's record transitions.
 *
 * @module
 */

import { cacheKey } from "./_cache_key.ts";
import { startTimer } from "./_clock.ts";
import { hasChild } from "./_dag_plan.ts";
import type { Run } from "./_run.ts";
import { iso, redactDeep, type RunContext } from "./_run_context.ts";
import type { Slot } from "./_run_nodes.ts";
import { ChildParked, runChildAttempt } from "./_run_child.ts";
import { waitToRetry } from "./_retry_wait.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import {
  type AttemptRecord,
  MAX_INTERRUPTIONS,
  type NodeRecord,
  NodeStatus,
  type RecordedFetch,
} from "../run_record.ts";
import type { NodeCache, NodeCall, NodeCallResult } from "../runner_protocol.ts";

type Outcome =
  | { ok: true; result: NodeCallResult }
  | { ok: false; error: unknown; cancelled: boolean };

/** Runs one attempt; settles at the timeout or on abort even when the runner never does. */
export function attempt(
  run: Run,
  slot: Slot,
  n: number,
  fetches: RecordedFetch[] | undefined,
): Promise<Outcome> {
  const { ctx } = run;
  return new Promise((resolve) => {
    const controller = new AbortController();
    let cancelTimer: (() => void) | undefined;
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      slot.abort = undefined;
      cancelTimer?.();
      resolve(outcome);
    };
    slot.abort = (reason, failure) => {
      controller.abort(reason);
      settle({ ok: false, error: failure, cancelled: true });
    };
    const { node } = slot;
    if (node.timeoutMs > 0 && Number.isFinite(node.timeoutMs)) {
      cancelTimer = startTimer(ctx.clock, node.timeoutMs, () => {
        const message = `Cannot complete node "${slot.id}": attempt ${n} timed out after ` +
          `${node.timeoutMs} ms; raise "timeout" for the node in workflow.yaml if it needs longer`;
        const reason = new DOMException(message, "TimeoutError");
        controller.abort(reason);
        settle({
          ok: false,
          error: new NodeFailure(message, { kind: FailureKind.Timeout, cause: reason }),
          cancelled: false,
        });
      });
    }
    const call: NodeCall = {
      workflow: ctx.workflow,
      node,
      input: slot.input,
      runId: ctx.runId,
      attempt: n,
      config: ctx.config,
      secrets: ctx.secrets,
      tmpDir: ctx.tmpDir,
      onLog: ctx.onLog,
      onProgress: (value, message) => {
        slot.rec.progress = message === undefined ? { value } : { value, message };
        run.hooks.emitNode(slot);
      },
      fetchMock: ctx.fetchMock,
    };
    if (slot.item) call.item = slot.item;
    call.step = run.durable.steps(
      ctx.runId,
      slot.item ? `${slot.id}[${slot.item.index}]` : slot.id,
    );
    if (fetches) call.onFetch = (exchange) => void fetches.push(exchange);
    let pending: Promise<NodeCallResult>;
    try {
      const k8s = ctx.k8sAccess(node);
      if (k8s) call.k8s = k8s;
      const traceparent = ctx.traceparent?.(slot.id, n);
      if (traceparent) call.traceparent = traceparent;
      pending = node.kind === "workflow"
        ? runChildAttempt(run, slot, controller.signal, (id) => {
          slot.rec.childRunId = id;
          if (!slot.item) run.hooks.emitNode(slot);
        })
        : ctx.runner.run(call, controller.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (result) => settle({ ok: true, result }),
      (error) => settle({ ok: false, error, cancelled: false }),
    );
  });
}

/** A failure when `routes` names something that is not a declared child. */
function checkRoutes(ctx: RunContext, slot: Slot, routes: unknown): NodeFailure | undefined {
  if (routes === undefined) return undefined;
  const bad = Array.isArray(routes)
    ? routes.find((r) =>
      typeof r !== "string" || slot.index < 0 || !hasChild(ctx.plan, slot.index, r)
    )
    : routes;
  if (bad === undefined) return undefined;
  const declared = slot.index < 0 ? [] : ctx.workflow.children[slot.id] ?? [];
  const fix = declared.length > 0
    ? `declared children: ${declared.map((c) => `"${c}"`).join(", ")}`
    : `node "${slot.id}" has no declared children; add an edge in workflow.yaml`;
  return new NodeFailure(
    `Cannot route from node "${slot.id}": ${JSON.stringify(bad)} is not a declared child; ${fix}`,
    { nonRetryable: true },
  );
}

/** Returns the cache key on a miss, or undefined after a hit (the node is then done). */
async function lookUpCache(
  run: Run,
  cache: NodeCache,
  slot: Slot,
): Promise<string | "hit" | undefined> {
  const { ctx } = run;
  const started = ctx.clock.now();
  let key: string;
  try {
    key = await cacheKey(slot.node, slot.input, ctx.config);
  } catch (error) {
    ctx.logLine("warn", slot.id, `Cannot cache node "${slot.id}": ${(error as Error).message}`);
    return undefined;
  }
  let hit: Awaited<ReturnType<NodeCache["get"]>>;
  try {
    hit = await cache.get(key);
  } catch (error) {
    ctx.logLine("warn", slot.id, `Cannot read the node cache: ${String(error)}`);
    return key;
  }
  if (!hit || checkRoutes(ctx, slot, hit.routes)) return key;
  const { rec } = slot;
  const finished = ctx.clock.now();
  rec.status = NodeStatus.Succeeded;
  rec.attempts = 0;
  rec.cached = true;
  rec.startedAt = iso(started);
  rec.finishedAt = iso(finished);
  rec.durationMs = finished - started;
  slot.output = hit.output;
  rec.output = ctx.redactValue(hit.output);
  if (hit.routes) rec.routes = slot.routes = hit.routes;
  run.hooks.emitNode(slot);
  return "hit";
}

/**
 * A failure when `output` cannot be stored as JSON (a BigInt, a cycle, a throwing toJSON): the
 * run record could not be written, so the attempt fails instead of leaving the run stuck.
 */
export function checkStorable(slot: Slot, output: unknown): NodeFailure | undefined {
  if (output === null || typeof output !== "object" && typeof output !== "bigint") return;
  try {
    JSON.stringify(output);
    return undefined;
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ");
    return new NodeFailure(
      `Cannot store the output of node "${slot.id}": it is not JSON data (${detail}); return ` +
        "plain JSON data",
      { nonRetryable: true },
    );
  }
}

export function isNonRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { nonRetryable?: unknown }).nonRetryable === true;
}

/**
 * Runs `slot` to a final status: succeeded, failed, cancelled (stopped while running or
 * between attempts) or skipped (stopped before the first attempt). Never rejects.
 * `stop` ends backoff sleeps; attempts are aborted through `slot.abort`.
 */
export async function runNode(run: Run, slot: Slot, stop: AbortSignal | undefined) {
  const { ctx, hooks } = run;
  const { node, rec } = slot;
  let key: string | undefined;
  const { cache } = ctx;
  if (node.cacheMs !== undefined && cache) {
    const looked = await lookUpCache(run, cache, slot);
    if (looked === "hit") return;
    key = looked;
  }
  if (stop?.aborted) {
    rec.status = NodeStatus.Skipped;
    hooks.emitNode(slot);
    return;
  }
  if ((rec.interruptions ?? 0) >= MAX_INTERRUPTIONS) return failInterrupted(run, slot);
  const preparing = prepare(run, slot);
  if (preparing) {
    await preparing;
    if (stop?.aborted) {
      rec.status = NodeStatus.Skipped;
      hooks.emitNode(slot);
      return;
    }
  }
  const started = ctx.clock.now();
  rec.status = NodeStatus.Running;
  rec.attempts = 1;
  rec.startedAt = iso(started);
  beginAttempt(rec, 1, started);
  hooks.emitNode(slot);
  for (let n = 1;; n++) {
    // recordFetch: the real ctx.fetch exchanges of the attempt that succeeds are kept (redacted).
    const fetches = node.recordFetch && !ctx.fetchMock ? [] as RecordedFetch[] : undefined;
    const outcome = await attempt(run, slot, n, fetches);
    if (!outcome.ok && outcome.error instanceof ChildParked) {
      // Its child run parked: the node waits with it (resumed when the child's wait resolves).
      rec.status = NodeStatus.Waiting;
      rec.waitingFor = { childRunId: outcome.error.childRunId };
      run.durable.parked.add(slot.id);
      hooks.emitNode(slot);
      return;
    }
    const failure = outcome.ok
      ? checkRoutes(ctx, slot, outcome.result.routes) ?? checkStorable(slot, outcome.result.output)
      : outcome.error;
    if (outcome.ok && failure === undefined) {
      const { output, routes } = outcome.result;
      rec.status = NodeStatus.Succeeded;
      slot.output = output;
      rec.output = ctx.redactValue(output);
      if (routes) rec.routes = slot.routes = routes;
      if (rec.error) delete rec.error;
      if (fetches) {
        rec.fetches = ctx.redact ? redactDeep(fetches, ctx.redact, 0) as RecordedFetch[] : fetches;
      }
      endAttempt(ctx, rec, "succeeded");
      if (key !== undefined) await storeInCache(ctx, cache!, slot, key);
      break;
    }
    rec.error = ctx.errorInfo(failure);
    if (!outcome.ok && outcome.cancelled) {
      rec.status = NodeStatus.Cancelled;
      endAttempt(ctx, rec, "cancelled");
      break;
    }
    endAttempt(ctx, rec, "failed");
    if (n > node.retries || isNonRetryable(failure)) {
      rec.status = NodeStatus.Failed;
      if (node.allowFailure) slot.output = { error: { message: rec.error.message } };
      break;
    }
    // The failed attempt shows in the history while the node waits for its retry.
    hooks.emitNode(slot);
    const cancelled = await waitToRetry(run, n, { stop, what: `node "${slot.id}"` });
    if (cancelled) {
      rec.status = NodeStatus.Cancelled;
      rec.error = ctx.errorInfo(cancelled);
      break;
    }
    rec.attempts = n + 1;
    beginAttempt(rec, n + 1, ctx.clock.now());
    hooks.emitNode(slot);
  }
  const finished = ctx.clock.now();
  rec.finishedAt = iso(finished);
  rec.durationMs = finished - started;
  hooks.emitNode(slot);
}

/**
 * Appends a running attempt to `rec.history`. The array and its entries are replaced, never
 * mutated, so the shallow snapshots given to `onNodeUpdate` stay as they were.
 */
function beginAttempt(rec: NodeRecord, attempt: number, now: number): void {
  const entry: AttemptRecord = { attempt, status: "running", startedAt: iso(now) };
  rec.history = rec.history ? [...rec.history, entry] : [entry];
}

/** Ends the attempt in flight with `status` (and the node's error unless it succeeded). */
function endAttempt(ctx: RunContext, rec: NodeRecord, status: AttemptRecord["status"]): void {
  const history = rec.history;
  const last = history?.at(-1);
  if (!history || !last || last.status !== "running") return;
  const done: AttemptRecord = { ...last, status, finishedAt: iso(ctx.clock.now()) };
  if (status !== "succeeded" && rec.error) {
    done.error = rec.error.name === undefined
      ? { message: rec.error.message }
      : { message: rec.error.message, name: rec.error.name };
  }
  rec.history = [...history.slice(0, -1), done];
}

/** Starts the node's sandbox ahead of its first attempt (see `NodeRunner.prepare`). */
export function prepare(run: Run, slot: Slot): Promise<void> | undefined {
  const { ctx } = run;
  if (!ctx.runner.prepare) return undefined;
  let k8s;
  try {
    k8s = ctx.k8sAccess(slot.node);
  } catch {
    return undefined;
  }
  return ctx.runner.prepare({ workflow: ctx.workflow, node: slot.node, tmpDir: ctx.tmpDir, k8s });
}

/**
 * Fails a node during which the engine stopped {@link MAX_INTERRUPTIONS} times (a node that
 * crashes the engine would otherwise be resumed forever), without running it again.
 */
export function failInterrupted(run: Run, slot: Slot): void {
  const { rec } = slot;
  const now = iso(run.ctx.clock.now());
  rec.status = NodeStatus.Failed;
  rec.error = run.ctx.errorInfo(
    new NodeFailure(
      `Cannot complete node "${slot.id}": the engine stopped ${rec.interruptions} times while ` +
        `node "${slot.id}" was running; the run is not resumed again`,
      { nonRetryable: true },
    ),
  );
  if (slot.node.allowFailure) slot.output = { error: { message: rec.error.message } };
  rec.startedAt ??= now;
  rec.finishedAt = now;
  rec.durationMs = 0;
  run.hooks.emitNode(slot);
}

function containsSecret(ctx: RunContext, output: unknown): boolean {
  try {
    return JSON.stringify(ctx.redactValue(output)) !== JSON.stringify(output);
  } catch {
    return true;
  }
}

async function storeInCache(
  ctx: RunContext,
  cache: NodeCache,
  slot: Slot,
  key: string,
): Promise<void> {
  const value = slot.routes
    ? { output: slot.output, routes: slot.routes }
    : { output: slot.output };
  // The cache is stored: an output that holds a secret is not cached (it would be kept in clear).
  if (ctx.redact && slot.rec.output !== slot.output && containsSecret(ctx, slot.output)) return;
  try {
    await cache.set(key, value, slot.node.cacheMs!);
  } catch (error) {
    ctx.logLine("warn", slot.id, `Cannot write the node cache: ${String(error)}`);
  }
}
