/**
 * The calls in flight in one sandbox, a worker (engine/runners/_sandbox_worker.ts) or a
 * process (engine/runners/_sandbox_process.ts): the call message sent for each, the routing of
 * the sandbox's messages to the right call, settling, aborting (with the grace period after
 * which a node that ignores its signal is failed alone) and the failure of a message that
 * could not be sent. What happens to the sandbox itself — retiring it, stopping it — is the
 * owner's, through the callbacks.
 *
 * @module
 */

import { NodeFailure } from "../errors.ts";
import type { SandboxDirs } from "./_permissions.ts";
import { abortFailure, ignoredSignal, nodeFailure, startTimer } from "./_attempt_failure.ts";
import { answerFetch, answerK8s, answerStep } from "./_host_answers.ts";
import { moduleUrl } from "./_load_node.ts";
import { scopeSecrets } from "./_secret_scope.ts";
import type { CallMessage, FromWorker, ToWorker } from "./_worker_protocol.ts";
import type { Clock, NodeCall, NodeCallResult } from "../runner_protocol.ts";

/** One call in flight. */
export interface PendingCall {
  call: NodeCall;
  signal: AbortSignal;
  resolve(result: NodeCallResult): void;
  reject(failure: NodeFailure): void;
  /** Set once the call's signal aborted. */
  aborted?: { reason: unknown };
  detach(): void;
}

/** How a {@link PendingCalls} table talks to its sandbox and its owner. */
export interface PendingCallsOptions {
  dirs: SandboxDirs;
  graceMs: number;
  clock?: Clock;
  /** Sends a message to the sandbox (nothing once it is stopped). */
  post(message: ToWorker): void;
  /** The end of the message of a node that ignored its signal ("its worker was stopped"). */
  stopped: string;
  /** A node ignored its signal for `graceMs` and was failed: deal with its sandbox. */
  onIgnoredSignal(): void;
  /** A call settled and none is left. */
  onIdle(): void;
}

/** The calls in flight in one sandbox, by call id. */
export class PendingCalls {
  #options: PendingCallsOptions;
  #pending = new Map<number, PendingCall>();
  #seq = 0;

  constructor(options: PendingCallsOptions) {
    this.#options = options;
  }

  /** Whether calls are in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** A new message id (calls and other requests share the sequence). */
  nextId(): number {
    return ++this.#seq;
  }

  /** Sends `call` to the sandbox; settles with its result or failure. */
  start(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
    const id = this.nextId();
    return new Promise<NodeCallResult>((resolve, reject) => {
      const onAbort = () => this.#abort(id, signal.reason);
      this.#pending.set(id, {
        call,
        signal,
        resolve,
        reject,
        detach: () => signal.removeEventListener("abort", onAbort),
      });
      signal.addEventListener("abort", onAbort, { once: true });
      this.#options.post(callMessage(id, call));
    });
  }

  /** Removes every call and returns them, detached from their signals. */
  takeAll(): PendingCall[] {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) entry.detach();
    return pending;
  }

  /** Fails (or, when its signal aborted, aborts) every call with `failure(call)`. */
  failAll(failure: (call: NodeCall) => NodeFailure): void {
    for (const id of [...this.#pending.keys()]) {
      const pending = this.#pending.get(id);
      if (pending) this.settle(id, failure(pending.call));
    }
  }

  /** Settles call `id` with `outcome` (an aborted call fails with its abort reason instead). */
  settle(id: number, outcome: NodeCallResult | NodeFailure): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.detach();
    if (pending.aborted) {
      pending.reject(abortFailure(pending.call, pending.aborted.reason));
    } else if (outcome instanceof NodeFailure) {
      pending.reject(outcome);
    } else {
      pending.resolve(outcome);
    }
    if (this.#pending.size === 0) this.#options.onIdle();
  }

  /** A message that could not be encoded: the call it belongs to fails. */
  failedPost(message: ToWorker, error: unknown): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    const detail = error instanceof Error ? error.message : String(error);
    const what = message.t === "call"
      ? "its input, config or secrets cannot be copied into the sandbox"
      : "an answer to its sandbox cannot be copied";
    this.settle(
      message.id,
      new NodeFailure(
        `Cannot run node "${pending.call.node.id}": ${what} (${detail}); pass plain JSON data`,
        { nonRetryable: true, cause: error },
      ),
    );
  }

  /**
   * Routes a message of the sandbox about a call (result, error, log, progress, and the
   * requests the host answers); messages about no pending call are dropped.
   */
  receive(msg: Exclude<FromWorker, { t: "crash" | "loaded" }>): void {
    const pending = this.#pending.get(msg.id);
    if (!pending) return;
    const post = (answer: ToWorker) => this.#options.post(answer);
    switch (msg.t) {
      case "result":
        return this.settle(msg.id, { output: msg.output, routes: msg.routes });
      case "error":
        return this.settle(
          msg.id,
          nodeFailure(pending.call, msg.error, { dirs: this.#options.dirs }),
        );
      case "log":
        return pending.call.onLog(msg.line);
      case "progress":
        return pending.call.onProgress?.(msg.value, msg.message);
      case "fetch":
        return answerFetch(pending.call, msg, post);
      case "k8s":
        return answerK8s(pending.call, msg, post);
      case "step":
        return answerStep(pending.call, msg, post);
      case "fetched-real":
        return pending.call.onFetch?.(msg.exchange);
    }
  }

  #abort(id: number, reason: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending || pending.aborted) return;
    pending.aborted = { reason };
    const error = reason instanceof Error ? reason : undefined;
    this.#options.post({
      t: "abort",
      id,
      name: error?.name ?? "AbortError",
      message: error?.message ?? String(reason ?? "The attempt was aborted"),
    });
    const { graceMs, clock } = this.#options;
    const cancel = startTimer(graceMs, () => {
      if (!this.#pending.has(id)) return;
      const failure = abortFailure(pending.call, reason, {
        stopped: ignoredSignal(graceMs, this.#options.stopped),
      });
      // Fail it first (its own fate), then let the owner deal with the sandbox.
      this.#pending.delete(id);
      pending.detach();
      pending.reject(failure);
      this.#options.onIgnoredSignal();
    }, { clock });
    const detach = pending.detach;
    pending.detach = () => {
      detach();
      cancel();
    };
  }
}

/** The message that starts `call` in a sandbox. */
function callMessage(id: number, call: NodeCall): CallMessage {
  const { node } = call;
  const path = node.path ?? "";
  const scoped = scopeSecrets(node, call.secrets, call.workflow.services);
  const message: CallMessage = {
    t: "call",
    id,
    url: moduleUrl(path, node.codeHash),
    file: path,
    node: node.id,
    runId: call.runId,
    attempt: call.attempt,
    input: call.input,
    config: call.config,
    secrets: scoped.secrets,
    services: call.workflow.services,
    children: call.workflow.children[node.id] ?? [],
    tmpDir: call.tmpDir,
    mock: call.fetchMock !== undefined,
  };
  if (scoped.withheld.length > 0) message.withheld = scoped.withheld;
  // Only the namespace crosses: the transport (and any credential) stays here.
  if (call.k8s) message.k8s = { namespace: call.k8s.namespace };
  if (call.item) message.item = call.item;
  if (call.step) message.step = true;
  if (call.traceparent) message.traceparent = call.traceparent;
  if (call.onFetch) message.recordFetch = true;
  return message;
}
