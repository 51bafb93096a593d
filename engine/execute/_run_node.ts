/**
 * Executes one node within a run: cache lookup, attempts with timeout, retries with backoff,
 * route checks, and the node's record transitions.
 *
 * @module
 */

import { backoffDelay } from "./_backoff.ts";
import { cacheKey } from "./_cache_key.ts";
import { startTimer } from "./_clock.ts";
import { hasChild } from "./_dag_plan.ts";
import { emitNode, errorInfo, iso, logLine, type RunState, type Slot } from "./_run_state.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import { type CompiledNode } from "../workflow_model.ts";
import { type AttemptRecord, type NodeRecord, NodeStatus } from "../run_record.ts";
import { type K8sAccess, type NodeCall, type NodeCallResult } from "../runner_protocol.ts";

type Outcome =
  | { ok: true; result: NodeCallResult }
  | { ok: false; error: unknown; cancelled: boolean };

/**
 * The node's `ctx.k8s`, asked of `ExecuteOptions.k8s` once per run; undefined for a node
 * that declares no `capabilities.k8s`.
 *
 * @throws {NodeFailure} (not retryable) when the factory threw, e.g. no kubeconfig
 */
function k8sAccess(s: RunState, node: CompiledNode): K8sAccess | undefined {
  const declared = node.capabilities.k8s;
  if (!s.k8s || declared === undefined || declared === null || declared === false) {
    return undefined;
  }
  let entry = s.k8sAccess.get(node.id);
  if (!entry) {
    try {
      entry = { access: s.k8s(node) };
    } catch (error) {
      entry = { failed: true, error };
    }
    s.k8sAccess.set(node.id, entry);
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

/** Runs one attempt; settles at the timeout or on abort even when the runner never does. */
function attempt(s: RunState, slot: Slot, n: number): Promise<Outcome> {
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
      cancelTimer = startTimer(s.clock, node.timeoutMs, () => {
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
      workflow: s.workflow,
      node,
      input: slot.input,
      runId: s.runId,
      attempt: n,
      config: s.config,
      secrets: s.secrets,
      tmpDir: s.tmpDir,
      onLog: s.onLog,
      onProgress: (value, message) => {
        slot.rec.progress = message === undefined ? { value } : { value, message };
        emitNode(s, slot);
      },
      fetchMock: s.fetchMock,
    };
    let pending: Promise<NodeCallResult>;
    try {
      const k8s = k8sAccess(s, node);
      if (k8s) call.k8s = k8s;
      pending = s.runner.run(call, controller.signal);
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
function checkRoutes(s: RunState, slot: Slot, routes: unknown): NodeFailure | undefined {
  if (routes === undefined) return undefined;
  const bad = Array.isArray(routes)
    ? routes.find((r) =>
      typeof r !== "string" || slot.index < 0 || !hasChild(s.plan, slot.index, r)
    )
    : routes;
  if (bad === undefined) return undefined;
  const declared = slot.index < 0 ? [] : s.workflow.children[slot.id] ?? [];
  const fix = declared.length > 0
    ? `declared children: ${declared.map((c) => `"${c}"`).join(", ")}`
    : `node "${slot.id}" has no declared children; add an edge in workflow.yaml`;
  return new NodeFailure(
    `Cannot route from node "${slot.id}": ${JSON.stringify(bad)} is not a declared child; ${fix}`,
    { nonRetryable: true },
  );
}

/** Returns the cache key on a miss, or undefined after a hit (the node is then done). */
async function lookUpCache(s: RunState, slot: Slot): Promise<string | "hit" | undefined> {
  const started = s.clock.now();
  let key: string;
  try {
    key = await cacheKey(slot.node, slot.input, s.config);
  } catch (error) {
    logLine(s, "warn", slot.id, `Cannot cache node "${slot.id}": ${(error as Error).message}`);
    return undefined;
  }
  let hit: Awaited<ReturnType<NonNullable<RunState["cache"]>["get"]>>;
  try {
    hit = await s.cache!.get(key);
  } catch (error) {
    logLine(s, "warn", slot.id, `Cannot read the node cache: ${String(error)}`);
    return key;
  }
  if (!hit || checkRoutes(s, slot, hit.routes)) return key;
  const { rec } = slot;
  const finished = s.clock.now();
  rec.status = NodeStatus.Succeeded;
  rec.attempts = 0;
  rec.cached = true;
  rec.startedAt = iso(started);
  rec.finishedAt = iso(finished);
  rec.durationMs = finished - started;
  rec.output = slot.output = hit.output;
  if (hit.routes) rec.routes = slot.routes = hit.routes;
  emitNode(s, slot);
  return "hit";
}

function isNonRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { nonRetryable?: unknown }).nonRetryable === true;
}

/**
 * Runs `slot` to a final status: succeeded, failed, cancelled (stopped while running or
 * between attempts) or skipped (stopped before the first attempt). Never rejects.
 * `stop` ends backoff sleeps; attempts are aborted through `slot.abort`.
 */
export async function runNode(s: RunState, slot: Slot, stop: AbortSignal | undefined) {
  const { node, rec } = slot;
  let key: string | undefined;
  if (node.cacheMs !== undefined && s.cache) {
    const looked = await lookUpCache(s, slot);
    if (looked === "hit") return;
    key = looked;
  }
  if (stop?.aborted) {
    rec.status = NodeStatus.Skipped;
    emitNode(s, slot);
    return;
  }
  const started = s.clock.now();
  rec.status = NodeStatus.Running;
  rec.attempts = 1;
  rec.startedAt = iso(started);
  beginAttempt(rec, 1, started);
  emitNode(s, slot);
  for (let n = 1;; n++) {
    const outcome = await attempt(s, slot, n);
    const failure = outcome.ok ? checkRoutes(s, slot, outcome.result.routes) : outcome.error;
    if (outcome.ok && failure === undefined) {
      const { output, routes } = outcome.result;
      rec.status = NodeStatus.Succeeded;
      rec.output = slot.output = output;
      if (routes) rec.routes = slot.routes = routes;
      if (rec.error) delete rec.error;
      endAttempt(s, rec, "succeeded");
      if (key !== undefined) await storeInCache(s, slot, key);
      break;
    }
    rec.error = errorInfo(s, failure);
    if (!outcome.ok && outcome.cancelled) {
      rec.status = NodeStatus.Cancelled;
      endAttempt(s, rec, "cancelled");
      break;
    }
    endAttempt(s, rec, "failed");
    if (n > node.retries || isNonRetryable(failure)) {
      rec.status = NodeStatus.Failed;
      if (node.allowFailure) slot.output = { error: { message: rec.error.message } };
      break;
    }
    // The failed attempt shows in the history while the node waits for its retry.
    emitNode(s, slot);
    try {
      await s.clock.sleep(backoffDelay(n, { ...s.workflow.settings, random: s.random }), stop);
      if (stop?.aborted) throw stop.reason;
    } catch {
      rec.status = NodeStatus.Cancelled;
      rec.error = errorInfo(
        s,
        new NodeFailure(`Cannot retry node "${slot.id}": ${s.stopWhy}`, {
          kind: FailureKind.Cancelled,
        }),
      );
      break;
    }
    rec.attempts = n + 1;
    beginAttempt(rec, n + 1, s.clock.now());
    emitNode(s, slot);
  }
  const finished = s.clock.now();
  rec.finishedAt = iso(finished);
  rec.durationMs = finished - started;
  emitNode(s, slot);
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
function endAttempt(s: RunState, rec: NodeRecord, status: AttemptRecord["status"]): void {
  const history = rec.history;
  const last = history?.at(-1);
  if (!history || !last || last.status !== "running") return;
  const done: AttemptRecord = { ...last, status, finishedAt: iso(s.clock.now()) };
  if (status !== "succeeded" && rec.error) {
    done.error = rec.error.name === undefined
      ? { message: rec.error.message }
      : { message: rec.error.message, name: rec.error.name };
  }
  rec.history = [...history.slice(0, -1), done];
}

async function storeInCache(s: RunState, slot: Slot, key: string): Promise<void> {
  const value = slot.routes
    ? { output: slot.output, routes: slot.routes }
    : { output: slot.output };
  try {
    await s.cache!.set(key, value, slot.node.cacheMs!);
  } catch (error) {
    logLine(s, "warn", slot.id, `Cannot write the node cache: ${String(error)}`);
  }
}
