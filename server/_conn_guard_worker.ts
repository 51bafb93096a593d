/**
 * The connection guard's worker (server/_conn_guard_thread.ts starts it): one guard, driven by
 * the thread's messages.
 *
 * @module
 */

import { type ConnGuard, startConnGuard } from "./_conn_guard.ts";
import type { GuardReply, GuardRequest } from "./_conn_guard_thread.ts";

/** The worker's side: one guard, driven by the messages of startConnGuardThread(). */
function serveInWorker(scope: {
  onmessage: ((event: MessageEvent<GuardRequest>) => void) | null;
  postMessage(reply: GuardReply): void;
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
