/**
 * The host side of one sandbox worker: sends calls, routes the worker's messages to the right
 * call (the pending-call table of engine/runners/_pending_calls.ts), aborts, and stops the
 * worker when it crashes or a node ignores its signal.
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
import { PendingCalls } from "./_pending_calls.ts";
import { Outbox } from "./_outbox.ts";
import type { FromWorker, Posted, RemoteError, ToWorker, WorkerInit } from "./_worker_protocol.ts";
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

/** One Deno worker with fixed permissions, running calls of every node that shares them. */
export class SandboxWorker {
  readonly key: string;
  /** Pool bookkeeping: last use, for least-recently-used eviction. */
  lastUsed = 0;
  /** Node files re-imported with a new code hash; each old version stays in memory. */
  staleVersions = 0;
  #options: SandboxWorkerOptions;
  #worker: Worker;
  #calls: PendingCalls;
  #versions = new Map<string, string>();
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
    failed: (message, error) => this.#calls.failedPost(message, error),
    // A batch of results reaches the next calls' posts through this many promise hops.
    quietHops: 8,
  });

  /** @throws {Error} When Deno refuses the permissions (e.g. an invalid host). */
  constructor(options: SandboxWorkerOptions) {
    this.key = options.key;
    this.#options = options;
    this.#calls = new PendingCalls({
      dirs: options.dirs,
      graceMs: options.graceMs,
      clock: options.clock,
      post: (message) => this.#post(message),
      stopped: "its worker was stopped",
      // Fail it alone, then retire the worker.
      onIgnoredSignal: () => this.retire(),
      onIdle: () => {
        if (this.#retired) this.stop();
      },
    });
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
    return this.#calls.size > 0;
  }

  /** Runs one attempt on this worker. */
  run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
    const path = call.node.path ?? "";
    const loaded = this.#versions.get(path);
    if (loaded !== undefined && loaded !== call.node.codeHash) this.staleVersions++;
    this.#versions.set(path, call.node.codeHash);
    return this.#calls.start(call, signal);
  }

  /** Takes no new calls; terminates once the running ones have settled. */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#options.onRetire(this);
    if (!this.busy) this.stop();
  }

  /** Stops the worker now; calls still running fail with `failure(call)`. */
  stop(failure?: (call: NodeCall) => NodeFailure): void {
    if (!this.#retired) this.retire();
    if (this.#terminated) return;
    this.#terminated = true;
    this.#outbox.clear();
    this.#worker.terminate();
    this.#options.onExit(this);
    this.#calls.failAll((call) =>
      failure?.(call) ??
        new NodeFailure(`Cannot run node "${call.node.id}": its worker was stopped`, {
          kind: FailureKind.Cancelled,
        })
    );
  }

  #post(message: ToWorker): void {
    if (!this.#terminated) this.#outbox.send(message);
  }

  #crash(error: RemoteError): void {
    this.stop((call) =>
      new NodeFailure(
        `Cannot run node "${call.node.id}": its sandbox worker crashed: ${error.message}`,
        { remoteName: error.name, remoteStack: error.stack },
      )
    );
  }

  #receive(msg: FromWorker): void {
    if (msg.t === "crash") return this.#crash(msg.error);
    if (msg.t !== "loaded") this.#calls.receive(msg);
  }
}
