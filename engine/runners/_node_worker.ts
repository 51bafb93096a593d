/**
 * Entry script of a sandbox worker (see engine/runners/worker_runner.ts). It runs any number of node
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
import { Outbox } from "./_outbox.ts";
import type { CallMessage, FromWorker, Posted, ToWorker, WorkerInit } from "./_worker_protocol.ts";
import type { Logger } from "./node_api.ts";
import type {
  FetchRequestInfo,
  FetchResponseInfo,
  K8sHostRequest,
  K8sHostResponse,
} from "../runner_protocol.ts";

interface WorkerScope {
  postMessage(message: Posted<FromWorker>): void;
  onmessage: ((event: MessageEvent<Posted<ToWorker> | WorkerInit>) => void) | null;
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

/** The node of each result message, for the error when its output cannot be copied. */
const resultNodes = new WeakMap<FromWorker, string>();

/** What goes back when a message cannot be copied out of the sandbox. */
function unclonable(message: FromWorker, error: unknown): FromWorker {
  const detail = error instanceof Error ? error.message : String(error);
  if (message.t === "crash") return { t: "crash", error: { message: message.error.message } };
  const what = message.t === "result"
    ? `the output of node "${resultNodes.get(message)}"`
    : `a ${message.t} message`;
  return {
    t: "error",
    id: message.id,
    error: {
      message: `Cannot return ${what}: it cannot be copied out of the sandbox (${detail}); ` +
        "return plain JSON data",
      name: "DataCloneError",
      nonRetryable: true,
    },
  };
}

/** Messages of one turn go out in one post (see engine/runners/_outbox.ts). */
const outbox = new Outbox<FromWorker>({
  post: (message) => {
    scope.postMessage(message);
    spinForNextCall();
  },
  failed: (message, error) => scope.postMessage(unclonable(message, error)),
  quietHops: 4,
});

/** Results and errors: batched with the others of this turn. */
const post = (message: FromWorker) => outbox.send(message);

/**
 * Logs, progress, questions to the host and crashes: at once (after what is queued), since
 * the node may block the worker's event loop right after, e.g. in a CPU-bound loop.
 */
const postNow = (message: FromWorker) => {
  outbox.send(message);
  outbox.flush();
};

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
  postNow({ t: "crash", error: toRemoteError(event.error ?? event.message) });
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  postNow({ t: "crash", error: toRemoteError(event.reason) });
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
    (req) => postNow({ t: "fetch", id: state.id, req, request }),
  );
}

function callK8s(state: CallState, request: K8sHostRequest) {
  return askHost(state.k8s, state.controller.signal, (req) => {
    try {
      postNow({ t: "k8s", id: state.id, req, request });
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
      onLog: (line) => postNow({ t: "log", id: msg.id, line }),
      onProgress: (value, message) => postNow({ t: "progress", id: msg.id, value, message }),
      mock: msg.mock ? (request, signal) => mockFetch(state, request, signal) : undefined,
      traceparent: msg.traceparent,
      onFetch: msg.recordFetch
        ? (exchange) => postNow({ t: "fetched-real", id: msg.id, exchange })
        : undefined,
      k8s: msg.k8s && {
        namespace: msg.k8s.namespace,
        call: (request) => callK8s(state, request),
      },
    });
    state.log = ctx.log;
    const output = await current.run(state, () => run(ctx, msg.input));
    const result: FromWorker = { t: "result", id: msg.id, output, routes: routes() };
    resultNodes.set(result, msg.node);
    post(result);
  } catch (error) {
    post({ t: "error", id: msg.id, error: toRemoteError(error) });
  } finally {
    calls.delete(msg.id);
  }
}

let bell: Int32Array | undefined;
let idleSpinMs = 0;
/** Moving average of whether a spin caught the next call (1) or ran out (0). */
let hitRate = 1;
/** Times the worker ran out of calls without spinning, since the last spin. */
let skipped = 0;

/** While spins mostly miss, one idle moment in this many still spins, to notice a change. */
const PROBE_EVERY = 16;

/**
 * With no call left, keeps the thread awake a moment for the next one (see WorkerInit), but
 * only while that mostly catches it: when the host takes longer (a busy server), spinning
 * would only take a CPU from it.
 */
function spinForNextCall(): void {
  if (bell === undefined || idleSpinMs <= 0 || calls.size > 0) return;
  if (hitRate < 0.5 && ++skipped < PROBE_EVERY) return;
  skipped = 0;
  const rung = Atomics.load(bell, 0);
  const until = performance.now() + idleSpinMs;
  while (Atomics.load(bell, 0) === rung && performance.now() < until) {
    // Busy on purpose: the host's next post ends it.
  }
  hitRate += ((Atomics.load(bell, 0) !== rung ? 1 : 0) - hitRate) / 8;
}

scope.onmessage = (event) => {
  const data = event.data;
  if (data.t === "init") {
    bell = new Int32Array(data.bell);
    idleSpinMs = data.idleSpinUs / 1000;
    return;
  }
  if (data.t !== "batch") return receive(data);
  for (const message of data.messages) receive(message);
};

function receive(msg: ToWorker): void {
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
}
