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

/**
 * Starts {@link startConnGuard} in a worker and resolves once it listens.
 * @throws what startConnGuard throws (Deno.errors.AddrInUse, RangeError)
 */
export function startConnGuardThread(options: ConnGuardOptions): Promise<ConnGuardThread> {
  const worker = new Worker(new URL("./_conn_guard_worker.ts", import.meta.url), {
    type: "module",
    name: "pipedreamer-conn-guard",
  });
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
