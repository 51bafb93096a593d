/**
 * Entry script of a sandbox worker (see engine/worker_runner.ts). It runs any number of node
 * calls at once, each with its own context, under the permissions the host gave the worker.
 *
 * Before any node code runs it makes the sandbox hold: nodes cannot exit or close the worker
 * (they must return or throw), cannot ask for more permissions (no prompt on a terminal),
 * see an empty `process.env` (npm packages probing optional variables keep working, while
 * `Deno.env` access fails and names the problem), and their `console.*` output becomes log
 * lines of the call that wrote it (nothing reaches the engine's stdout).
 *
 * @module
 */

import process from "node:process";
import { AsyncLocalStorage } from "node:async_hooks";
import { createContext } from "./_context.ts";
import { fromRemoteError, toRemoteError } from "./_attempt_failure.ts";
import { NodeLoader } from "./_load_node.ts";
import type { CallMessage, FromWorker, ToWorker } from "./_worker_protocol.ts";
import type { Logger } from "./node_api.ts";
import type {
  FetchRequestInfo,
  FetchResponseInfo,
  K8sHostRequest,
  K8sHostResponse,
} from "./types.ts";

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;

/** A question to the host (mocked fetch, `ctx.k8s` call) waiting for its answer. */
interface PendingAnswer<T> {
  resolve(answer: T): void;
  reject(error: Error): void;
}

interface CallState {
  id: number;
  controller: AbortController;
  fetches: Map<number, PendingAnswer<FetchResponseInfo>>;
  k8s: Map<number, PendingAnswer<K8sHostResponse>>;
  log?: Logger;
}

const calls = new Map<number, CallState>();
const loader = new NodeLoader();
const current = new AsyncLocalStorage<CallState>();
let questionSeq = 0;

const post = (message: FromWorker) => scope.postMessage(message);

function refuse(what: string) {
  return () => {
    throw new Error(`Cannot ${what} from a node: return a value or throw an error instead`);
  };
}
Object.defineProperty(Deno, "exit", { value: refuse("call Deno.exit()") });
scope.close = refuse("close the worker");
process.exit = refuse("call process.exit()");
process.abort = refuse("call process.abort()");
Object.defineProperty(process, "env", { value: {}, writable: true, configurable: true });
const permissions = Deno.permissions;
permissions.request = (descriptor) => permissions.query(descriptor);
permissions.requestSync = (descriptor) => permissions.querySync(descriptor);

const fallback = console.error.bind(console);
const consoleLevels = { debug: "debug", log: "info", info: "info", warn: "warn", error: "error" };
for (const [method, level] of Object.entries(consoleLevels)) {
  (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    const msg = args.map((arg) => typeof arg === "string" ? arg : Deno.inspect(arg)).join(" ");
    const log = current.getStore()?.log;
    if (log) log[level as keyof Logger](msg);
    else fallback(msg);
  };
}

globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  post({ t: "crash", error: toRemoteError(event.error ?? event.message) });
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  post({ t: "crash", error: toRemoteError(event.reason) });
});

/** Posts a question (`send(req)`) and resolves with the host's answer; rejects on abort. */
function askHost<T>(
  pending: Map<number, PendingAnswer<T>>,
  signal: AbortSignal,
  send: (req: number) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = ++questionSeq;
    const onAbort = () => {
      pending.delete(req);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.set(req, {
      resolve(answer) {
        signal.removeEventListener("abort", onAbort);
        resolve(answer);
      },
      reject(error) {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    });
    try {
      send(req);
    } catch (error) {
      pending.get(req)?.reject(error instanceof Error ? error : new Error(String(error)));
      pending.delete(req);
    }
  });
}

function mockFetch(state: CallState, request: FetchRequestInfo, signal: AbortSignal) {
  return askHost(
    state.fetches,
    signal,
    (req) => post({ t: "fetch", id: state.id, req, request }),
  );
}

function callK8s(state: CallState, request: K8sHostRequest) {
  return askHost(state.k8s, state.controller.signal, (req) => {
    try {
      post({ t: "k8s", id: state.id, req, request });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new TypeError(
        `Cannot call the Kubernetes API: the body of ${request.method} ${request.path} cannot ` +
          `be copied out of the sandbox (${detail}); pass plain JSON data`,
        { cause: error },
      );
    }
  });
}

async function runCall(msg: CallMessage): Promise<void> {
  const state: CallState = {
    id: msg.id,
    controller: new AbortController(),
    fetches: new Map(),
    k8s: new Map(),
  };
  calls.set(msg.id, state);
  try {
    const run = await loader.load(msg.url, msg.file, msg.node);
    const { ctx, routes } = createContext({
      runId: msg.runId,
      node: msg.node,
      attempt: msg.attempt,
      config: msg.config,
      secrets: msg.secrets,
      tmpDir: msg.tmpDir,
      signal: state.controller.signal,
      services: msg.services,
      children: msg.children,
      onLog: (line) => post({ t: "log", id: msg.id, line }),
      onProgress: (value, message) => post({ t: "progress", id: msg.id, value, message }),
      mock: msg.mock ? (request, signal) => mockFetch(state, request, signal) : undefined,
      k8s: msg.k8s && {
        namespace: msg.k8s.namespace,
        call: (request) => callK8s(state, request),
      },
    });
    state.log = ctx.log;
    const output = await current.run(state, () => run(ctx, msg.input));
    try {
      post({ t: "result", id: msg.id, output, routes: routes() });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      post({
        t: "error",
        id: msg.id,
        error: {
          message: `Cannot return the output of node "${msg.node}": it cannot be copied out ` +
            `of the sandbox (${detail}); return plain JSON data`,
          name: "DataCloneError",
          nonRetryable: true,
        },
      });
    }
  } catch (error) {
    post({ t: "error", id: msg.id, error: toRemoteError(error) });
  } finally {
    calls.delete(msg.id);
  }
}

scope.onmessage = (event) => {
  const msg = event.data;
  switch (msg.t) {
    case "call":
      runCall(msg);
      break;
    case "abort":
      calls.get(msg.id)?.controller.abort(new DOMException(msg.message, msg.name));
      break;
    case "fetched": {
      const pending = calls.get(msg.id)?.fetches.get(msg.req);
      if (!pending) break;
      calls.get(msg.id)?.fetches.delete(msg.req);
      if (msg.error !== undefined || msg.response === undefined) {
        pending.reject(new Error(msg.error ?? "Cannot fetch: the fetch mock gave no response"));
      } else {
        pending.resolve(msg.response);
      }
      break;
    }
    case "k8sAnswer": {
      const pending = calls.get(msg.id)?.k8s.get(msg.req);
      if (!pending) break;
      calls.get(msg.id)?.k8s.delete(msg.req);
      if (msg.response !== undefined) pending.resolve(msg.response);
      else {
        pending.reject(
          fromRemoteError(
            msg.error ?? { message: "Cannot call the Kubernetes API: the engine gave no answer" },
          ),
        );
      }
      break;
    }
  }
};
