/**
 * The connection guard (server/_conn_guard.ts) on a thread of its own: every byte it relays
 * is copied there, not on the thread that runs the HTTP handler and the runs.
 * `startConnGuardThread()` runs on the main thread; the worker's entry is
 * server/_conn_guard_worker.ts (a module of its own: in the image the engine is one bundle,
 * main.js, and a worker started on `import.meta.url` would run the whole CLI again).
 *
 * @module
 */

import type { ConnGuard, ConnGuardOptions } from "./_conn_guard.ts";

/** A guard on its own thread (`open` is not known synchronously). */
export type ConnGuardThread = Omit<ConnGuard, "open">;

/** Messages to the worker. */
export type GuardRequest = { type: "start"; options: ConnGuardOptions } | { type: "stop" } | {
  type: "close";
};
/** Messages from the worker. */
export type GuardReply =
  | { type: "started"; addr: Deno.NetAddr }
  | { type: "failed"; name: string; message: string }
  | { type: "closed" };

/** Recreates an error of the worker with its class (AddrInUse, RangeError) and message. */
function errorOf(reply: { name: string; message: string }): Error {
  if (reply.name === "AddrInUse") return new Deno.errors.AddrInUse(reply.message);
  if (reply.name === "RangeError") return new RangeError(reply.message);
  return new Error(reply.message);
}

/** A guard worker booting ahead of its start (see {@link bootConnGuardThread}). */
export interface BootingConnGuard {
  /** Starts the guard in the worker; resolves once it listens. */
  start(options: ConnGuardOptions): Promise<ConnGuardThread>;
  /** Ends the worker when the guard will not be started (idempotent). */
  terminate(): void;
}

/**
 * Creates the guard's worker now, so that its isolate boots and loads its module while the
 * caller does other work (`serve` opens its store meanwhile); the guard starts on `start()`.
 */
export function bootConnGuardThread(): BootingConnGuard {
  const worker = new Worker(new URL("./_conn_guard_worker.ts", import.meta.url), {
    type: "module",
    name: "pipedreamer-conn-guard",
  });
  return {
    start: (options) => startIn(worker, options),
    terminate: () => worker.terminate(),
  };
}

/**
 * Starts {@link startConnGuard} in a worker and resolves once it listens.
 * @throws what startConnGuard throws (Deno.errors.AddrInUse, RangeError)
 */
export function startConnGuardThread(options: ConnGuardOptions): Promise<ConnGuardThread> {
  return bootConnGuardThread().start(options);
}

function startIn(worker: Worker, options: ConnGuardOptions): Promise<ConnGuardThread> {
  const started = Promise.withResolvers<ConnGuardThread>();
  const closed = Promise.withResolvers<void>();
  const post = (request: GuardRequest) => worker.postMessage(request);
  worker.onmessage = (event: MessageEvent<GuardReply>) => {
    const reply = event.data;
    if (reply.type === "started") {
      started.resolve({
        addr: reply.addr,
        stopAccepting: () => post({ type: "stop" }),
        close() {
          post({ type: "close" });
          return closed.promise;
        },
      });
    } else if (reply.type === "failed") {
      worker.terminate();
      started.reject(errorOf(reply));
    } else {
      worker.terminate();
      closed.resolve();
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    worker.terminate();
    const error = new Error(`The connection guard stopped: ${event.message}`);
    started.reject(error);
    closed.resolve();
  };
  post({ type: "start", options });
  return started.promise;
}
