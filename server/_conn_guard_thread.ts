/**
 * The connection guard (server/_conn_guard.ts) on a thread of its own: every byte it relays
 * is copied there, not on the thread that runs the HTTP handler and the runs.
 * `startConnGuardThread()` runs on the main thread; this module is also the worker's entry.
 *
 * @module
 */

import { type ConnGuard, type ConnGuardOptions, startConnGuard } from "./_conn_guard.ts";

/** A guard on its own thread (`open` is not known synchronously). */
export type ConnGuardThread = Omit<ConnGuard, "open">;

/** Messages to the worker. */
type Request = { type: "start"; options: ConnGuardOptions } | { type: "stop" } | {
  type: "close";
};
/** Messages from the worker. */
type Reply =
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
  const worker = new Worker(import.meta.url, { type: "module", name: "pipedreamer-conn-guard" });
  const started = Promise.withResolvers<ConnGuardThread>();
  const closed = Promise.withResolvers<void>();
  const post = (request: Request) => worker.postMessage(request);
  worker.onmessage = (event: MessageEvent<Reply>) => {
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

/** The worker's side: one guard, driven by the messages of startConnGuardThread(). */
function serveInWorker(scope: {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(reply: Reply): void;
}): void {
  let guard: ConnGuard | undefined;
  scope.onmessage = async (event) => {
    const request = event.data;
    if (request.type === "start") {
      try {
        guard = startConnGuard(request.options);
        scope.postMessage({ type: "started", addr: guard.addr });
      } catch (error) {
        const { name, message } = error instanceof Error ? error : new Error(String(error));
        scope.postMessage({ type: "failed", name, message });
      }
    } else if (request.type === "stop") {
      guard?.stopAccepting();
    } else {
      await guard?.close();
      scope.postMessage({ type: "closed" });
    }
  };
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope) {
  serveInWorker(scope);
}
