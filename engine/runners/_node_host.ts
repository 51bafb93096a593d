/**
 * The inside of a sandbox: runs any number of node calls at once, each with its own context,
 * under the permissions the sandbox was started with. Shared by the sandbox worker
 * (engine/runners/_node_worker.ts, messages over postMessage) and the sandbox process
 * (engine/runners/_sandbox_process_main.ts, JSON lines over pipes).
 *
 * {@link startNodeHost} makes the sandbox hold before any node code runs: nodes cannot exit or
 * close it (they must return or throw), cannot ask for more permissions (no prompt on a
 * terminal), see an empty `process.env` (npm packages probing optional variables keep
 * working, while `Deno.env` access fails and names the problem), and their `console.*`
 * output becomes log lines of the call that wrote it.
 *
 * @module
 */

import process from "node:process";
import { AsyncLocalStorage } from "node:async_hooks";
import { createContext } from "./_context.ts";
import { fromRemoteError, toRemoteError } from "./_attempt_failure.ts";
import { NodeLoader } from "./_load_node.ts";
import { Outbox } from "./_outbox.ts";
import type { CallMessage, FromWorker, Posted, ToWorker } from "./_worker_protocol.ts";
import type { Logger } from "./node_api.ts";
import type {
  FetchRequestInfo,
  FetchResponseInfo,
  K8sHostRequest,
  K8sHostResponse,
} from "../runner_protocol.ts";

/** How a sandbox talks to its host. */
export interface HostTransport {
  /** Sends one message or a batch; throws when a message cannot be encoded. */
  post(message: Posted<FromWorker>): void;
  /** Called after each post with the number of calls still running (to spin when idle). */
  afterPost?(running: number): void;
  /** `close()` of the sandbox's global scope, refused to nodes. */
  refuseClose?: boolean;
}

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
  steps: Map<number, PendingAnswer<{ value: unknown } | undefined>>;
  log?: Logger;
}

function refuse(what: string) {
  return () => {
    throw new Error(`Cannot ${what} from a node: return a value or throw an error instead`);
  };
}

/**
 * Locks the sandbox down (see the module doc) and returns the function that handles the
 * host's messages.
 */
export function startNodeHost(transport: HostTransport): (data: Posted<ToWorker>) => void {
  const calls = new Map<number, CallState>();
  const loader = new NodeLoader();
  const current = new AsyncLocalStorage<CallState>();
  let questionSeq = 0;
  /** The node of each result message, for the error when its output cannot be copied. */
  const resultNodes = new WeakMap<FromWorker, string>();

  /** What goes back when a message cannot be copied out of the sandbox. */
  function unclonable(message: FromWorker, error: unknown): FromWorker {
    const detail = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ");
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
      transport.post(message);
      transport.afterPost?.(calls.size);
    },
    failed: (message, error) => transport.post(unclonable(message, error)),
    quietHops: 4,
  });

  /** Results and errors: batched with the others of this turn. */
  const post = (message: FromWorker) => outbox.send(message);

  /**
   * Logs, progress, questions to the host and crashes: at once (after what is queued), since
   * the node may block the event loop right after, e.g. in a CPU-bound loop.
   */
  const postNow = (message: FromWorker) => {
    outbox.send(message);
    outbox.flush();
  };

  Object.defineProperty(Deno, "exit", { value: refuse("call Deno.exit()") });
  if (transport.refuseClose) {
    (globalThis as unknown as { close(): void }).close = refuse("close the worker");
  }
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

  function askStep(state: CallState, op: "get" | "put", name: string, value?: unknown) {
    return askHost(state.steps, state.controller.signal, (req) => {
      try {
        postNow({ t: "step", id: state.id, req, op, name, ...(op === "put" ? { value } : {}) });
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        throw new TypeError(
          `Cannot store step "${name}": its result cannot be copied out of the sandbox (${detail})`,
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
      steps: new Map(),
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
        withheld: msg.withheld,
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
        ...(msg.item ? { item: msg.item } : {}),
        ...(msg.step
          ? {
            step: {
              get: (name: string) => askStep(state, "get", name),
              put: async (name: string, value: unknown) =>
                (await askStep(state, "put", name, value)) ?? { value },
            },
          }
          : {}),
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

  function receive(msg: ToWorker): void {
    switch (msg.t) {
      case "call":
        runCall(msg);
        break;
      case "abort":
        calls.get(msg.id)?.controller.abort(new DOMException(msg.message, msg.name));
        break;
      case "load": {
        const loaded = () => postNow({ t: "loaded", id: msg.id });
        loader.load(msg.url, msg.file, msg.node).then(loaded, loaded);
        break;
      }
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
      case "stepAnswer": {
        const pending = calls.get(msg.id)?.steps.get(msg.req);
        if (!pending) break;
        calls.get(msg.id)?.steps.delete(msg.req);
        if (msg.error !== undefined) pending.reject(new Error(msg.error));
        else pending.resolve(msg.stored);
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

  return (data) => {
    if (data.t !== "batch") return receive(data);
    for (const message of data.messages) receive(message);
  };
}
