/**
 * The host side of one sandbox worker: sends calls, routes the worker's messages to the right
 * call (callId → pending map), aborts, and stops the worker when it crashes or a node ignores
 * its signal.
 *
 * Stuck-node policy ("own fate"): a node that ignores `ctx.signal` for `graceMs` after an abort
 * is failed alone; its worker is retired (no new calls go to it, the pool starts a fresh one)
 * and terminated as soon as the calls still running on it have settled. Those calls keep their
 * own fate: they finish normally, or — if the stuck node blocks the worker's event loop — hit
 * their own timeout and grace.
 *
 * @module
 */

import { FailureKind, NodeFailure } from "../errors.ts";
import type { SandboxDirs } from "./_permissions.ts";
import { abortFailure, ignoredSignal, nodeFailure, startTimer } from "./_attempt_failure.ts";
import { answerFetch, answerK8s, answerStep } from "./_host_answers.ts";
import { moduleUrl } from "./_load_node.ts";
import { scopeSecrets } from "./_secret_scope.ts";
import { Outbox } from "./_outbox.ts";
import type {
  CallMessage,
  FromWorker,
  Posted,
  RemoteError,
  ToWorker,
  WorkerInit,
} from "./_worker_protocol.ts";
import type { Clock, NodeCall, NodeCallResult } from "../runner_protocol.ts";

const WORKER_URL = new URL("./_node_worker.ts", import.meta.url);

/** How a {@link SandboxWorker} is made. */
export interface SandboxWorkerOptions {
  /** Pool key: the serialised permissions. */
  key: string;
  permissions: Deno.PermissionOptionsObject;
  dirs: SandboxDirs;
  graceMs: number;
  /** How long the idle worker thread stays awake for the next call (see `WorkerInit`). */
  idleSpinUs: number;
  clock?: Clock;
  /** Called once when the worker must take no new calls. */
  onRetire(worker: SandboxWorker): void;
  /** Called once when the worker has been stopped. */
  onExit(worker: SandboxWorker): void;
}

interface Pending {
  call: NodeCall;
  resolve(result: NodeCallResult): void;
  reject(failure: NodeFailure): void;
  /** Set once the call's signal aborted. */
  aborted?: { reason: unknown };
  detach(): void;
}

/** One Deno worker with fixed permissions, running calls of every node that shares them. */
export class SandboxWorker {
  readonly key: string;
  /** Pool bookkeeping: last use, for least-recently-used eviction. */
  lastUsed = 0;
  /** Node files re-imported with a new code hash; each old version stays in memory. */
  staleVersions = 0;
  #options: SandboxWorkerOptions;
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #versions = new Map<string, string>();
  #seq = 0;
  #retired = false;
  #terminated = false;
  /** Rung on every post, so that a worker spinning for its next call sees it. */
  #bell = new Int32Array(new SharedArrayBuffer(4));
  /** Messages of one turn go out in one post (see engine/runners/_outbox.ts). */
  #outbox = new Outbox<ToWorker>({
    post: (message) => {
      if (this.#terminated) return;
      this.#worker.postMessage(message);
      Atomics.add(this.#bell, 0, 1);
    },
    failed: (message, error) => this.#failedPost(message, error),
    // A batch of results reaches the next calls' posts through this many promise hops.
    quietHops: 8,
  });

  /** @throws {Error} When Deno refuses the permissions (e.g. an invalid host). */
  constructor(options: SandboxWorkerOptions) {
    this.key = options.key;
    this.#options = options;
    // Typed apart from the literal: where the DOM lib is loaded too (the dashboard's browser
    // code), its WorkerOptions lacks Deno's `deno` field.
    const workerOptions: WorkerOptions & { deno: { permissions: Deno.PermissionOptions } } = {
      type: "module",
      name: "pipedreamer-sandbox",
      deno: { permissions: options.permissions },
    };
    this.#worker = new Worker(WORKER_URL, workerOptions);
    const init: WorkerInit = { t: "init", bell: this.#bell.buffer, idleSpinUs: options.idleSpinUs };
    this.#worker.postMessage(init);
    this.#worker.onmessage = (event: MessageEvent<Posted<FromWorker>>) => {
      const data = event.data;
      if (data.t !== "batch") return this.#receive(data);
      for (const message of data.messages) this.#receive(message);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#crash({ message: event.message });
    };
    this.#worker.onmessageerror = () => {
      this.#crash({ message: "a message from the worker could not be read" });
    };
  }

  /** Whether calls are running on this worker. */
  get busy(): boolean {
    return this.#pending.size > 0;
  }

  /** Runs one attempt on this worker. */
  run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
    const { node } = call;
    const path = node.path ?? "";
    const loaded = this.#versions.get(path);
    if (loaded !== undefined && loaded !== node.codeHash) this.staleVersions++;
    this.#versions.set(path, node.codeHash);
    const id = ++this.#seq;
    const scoped = scopeSecrets(node, call.secrets, call.workflow.services);
    return new Promise<NodeCallResult>((resolve, reject) => {
      const onAbort = () => this.#abort(id, signal.reason);
      const pending: Pending = {
        call,
        resolve,
        reject,
        detach: () => signal.removeEventListener("abort", onAbort),
      };
      this.#pending.set(id, pending);
      signal.addEventListener("abort", onAbort, { once: true });
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
        withheld: scoped.withheld,
        services: call.workflow.services,
        children: call.workflow.children[node.id] ?? [],
        tmpDir: call.tmpDir,
        mock: call.fetchMock !== undefined,
      };
      // Only the namespace crosses: the transport (and any credential) stays here.
      if (call.k8s) message.k8s = { namespace: call.k8s.namespace };
      if (call.item) message.item = call.item;
      if (call.step) message.step = true;
      if (call.traceparent) message.traceparent = call.traceparent;
      if (call.onFetch) message.recordFetch = true;
      this.#outbox.send(message);
    });
  }

  /** Takes no new calls; terminates once the running ones have settled. */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#options.onRetire(this);
    if (!this.busy) this.terminate();
  }

  /** Stops the worker now; calls still running fail with `failure(call)`. */
  terminate(failure?: (call: NodeCall) => NodeFailure): void {
    if (!this.#retired) this.retire();
    if (this.#terminated) return;
    this.#terminated = true;
    this.#outbox.clear();
    this.#worker.terminate();
    this.#options.onExit(this);
    for (const [id, pending] of this.#pending) {
      this.#settle(
        id,
        failure?.(pending.call) ??
          new NodeFailure(`Cannot run node "${pending.call.node.id}": its worker was stopped`, {
            kind: FailureKind.Cancelled,
          }),
      );
    }
  }

  #post(message: ToWorker): void {
    if (!this.#terminated) this.#outbox.send(message);
  }

  /** A message the worker could not be sent: the call it belongs to fails. */
  #failedPost(message: ToWorker, error: unknown): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    const detail = error instanceof Error ? error.message : String(error);
    const what = message.t === "call"
      ? "its input, config or secrets cannot be copied into the sandbox"
      : "an answer to its sandbox cannot be copied";
    this.#settle(
      message.id,
      new NodeFailure(
        `Cannot run node "${pending.call.node.id}": ${what} (${detail}); pass plain JSON data`,
        { nonRetryable: true, cause: error },
      ),
    );
  }

  #settle(id: number, outcome: NodeCallResult | NodeFailure): void {
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
    if (this.#retired && !this.busy) this.terminate();
  }

  #abort(id: number, reason: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending || pending.aborted) return;
    pending.aborted = { reason };
    const error = reason instanceof Error ? reason : undefined;
    this.#post({
      t: "abort",
      id,
      name: error?.name ?? "AbortError",
      message: error?.message ?? String(reason ?? "The attempt was aborted"),
    });
    const { graceMs, clock } = this.#options;
    const cancel = startTimer(graceMs, () => {
      if (!this.#pending.has(id)) return;
      const failure = abortFailure(pending.call, reason, {
        stopped: ignoredSignal(graceMs, "its worker was stopped"),
      });
      // Fail it first (its own fate), then retire the worker.
      this.#pending.delete(id);
      pending.detach();
      pending.reject(failure);
      this.retire();
    }, { clock });
    const detach = pending.detach;
    pending.detach = () => {
      detach();
      cancel();
    };
  }

  #crash(error: RemoteError): void {
    this.terminate((call) =>
      new NodeFailure(
        `Cannot run node "${call.node.id}": its sandbox worker crashed: ${error.message}`,
        { remoteName: error.name, remoteStack: error.stack },
      )
    );
  }

  #receive(msg: FromWorker): void {
    if (msg.t === "crash") return this.#crash(msg.error);
    const pending = this.#pending.get(msg.id);
    if (!pending) return;
    switch (msg.t) {
      case "result":
        return this.#settle(msg.id, { output: msg.output, routes: msg.routes });
      case "error":
        return this.#settle(
          msg.id,
          nodeFailure(pending.call, msg.error, { dirs: this.#options.dirs }),
        );
      case "log":
        return pending.call.onLog(msg.line);
      case "progress":
        return pending.call.onProgress?.(msg.value, msg.message);
      case "fetch":
        return answerFetch(pending.call, msg, (answer) => this.#post(answer));
      case "k8s":
        return answerK8s(pending.call, msg, (answer) => this.#post(answer));
      case "step":
        return answerStep(pending.call, msg, (answer) => this.#post(answer));
      case "fetched-real":
        return pending.call.onFetch?.(msg.exchange);
    }
  }
}
