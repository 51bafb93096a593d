/**
 * Messages between the worker runner (host) and a sandbox worker (engine/runners/_node_worker.ts).
 * This is the hot path: each call is one `call` message out and one `result` or `error`
 * message back, plus one message per log line, progress report, mocked fetch and `ctx.k8s`
 * call (answered on the host, where the Kubernetes credentials stay).
 *
 * @module
 */

import type { Denial } from "./_permissions.ts";
import type { BatchMessage } from "./_outbox.ts";
import type { LogLine, RecordedFetch } from "../run_record.ts";
import type {
  FetchRequestInfo,
  FetchResponseInfo,
  K8sHostRequest,
  K8sHostResponse,
} from "../runner_protocol.ts";

/** Runs one attempt of a module node. */
export interface CallMessage {
  t: "call";
  id: number;
  /** Module URL with a `?v=<codeHash>` cache buster. */
  url: string;
  /** Module path, for messages. */
  file: string;
  node: string;
  runId: string;
  attempt: number;
  input: unknown;
  config: Record<string, unknown>;
  /** Only the services the node may use (engine/runners/_secret_scope.ts). */
  secrets: Record<string, unknown>;
  /** Services that have secrets the node was not granted (names only). */
  withheld?: string[];
  services: Record<string, string>;
  children: string[];
  tmpDir: string;
  /** `ctx.fetch` goes to the host's fetch mock instead of the network. */
  mock: boolean;
  /** Set when the node has `ctx.k8s`: its namespace (calls go to the host). */
  k8s?: { namespace: string };
  /** `ctx.fetch`'s `traceparent` header (NodeCall.traceparent). */
  traceparent?: string;
  /** Report each real `ctx.fetch` exchange (NodeCall.onFetch). */
  recordFetch?: boolean;
  /** `ctx.item` of a map element. */
  item?: { index: number; total: number };
  /** `ctx.step` results are kept by the host (asked with `{ t: "step" }`). */
  step?: boolean;
}

/** The host's answer to a `ctx.step` question (`{ t: "step" }` from the worker). */
export interface StepAnswerMessage {
  t: "stepAnswer";
  id: number;
  req: number;
  /** The stored result; absent when the step has not finished (a "get"). */
  stored?: { value: unknown };
  /** The store failed: the node's ctx.step rejects with this message. */
  error?: string;
}

/** Aborts `ctx.signal` of a call; the reason is rebuilt as a DOMException. */
export interface AbortMessage {
  t: "abort";
  id: number;
  name: string;
  message: string;
}

/** The host's answer to a {@link FetchMessage}. */
export interface FetchedMessage {
  t: "fetched";
  id: number;
  req: number;
  response?: FetchResponseInfo;
  /** The mock threw: `ctx.fetch` rejects with this message. */
  error?: string;
}

/** The host's answer to a `ctx.k8s` call (`{ t: "k8s" }` from the worker). */
export interface K8sAnswerMessage {
  t: "k8sAnswer";
  id: number;
  req: number;
  response?: K8sHostResponse;
  /** The call failed (denied, unreachable, unmatched fixture): the node's call rejects with it. */
  error?: RemoteError;
}

/**
 * The first message to a worker. After posting its results, a worker with no call left spins
 * for up to `idleSpinUs` until `bell` (an Int32 the host increments after every post) changes,
 * instead of letting its thread sleep: a sleeping thread on an idle virtual CPU takes tens of
 * microseconds to wake, the price of every step of a chain. It stops spinning while its spins
 * mostly run out (and tries again now and then).
 */
export interface WorkerInit {
  t: "init";
  bell: SharedArrayBuffer;
  idleSpinUs: number;
}

/** What one `postMessage` carries: one message, or several in order (engine/runners/_outbox.ts). */
export type Posted<T> = T | BatchMessage<T>;

/** Imports a node module ahead of its first call (answered with `loaded`, even on failure). */
export interface LoadMessage {
  t: "load";
  id: number;
  url: string;
  file: string;
  node: string;
}

/** Host → worker. */
export type ToWorker =
  | CallMessage
  | AbortMessage
  | FetchedMessage
  | K8sAnswerMessage
  | StepAnswerMessage
  | LoadMessage;

/** An error crossing the worker boundary. */
export interface RemoteError {
  message: string;
  name?: string;
  stack?: string;
  /** Set when the error is (or wraps) a sandbox permission denial. */
  denial?: Denial;
  /** The node cannot succeed on retry (it cannot be loaded, its output cannot be copied). */
  nonRetryable?: boolean;
  /** The capability to declare, for a denial outside the sandbox (e.g. a `ctx.k8s` rule). */
  capability?: string;
}

/** Worker → host. */
export type FromWorker =
  | { t: "result"; id: number; output: unknown; routes?: string[] }
  | { t: "error"; id: number; error: RemoteError }
  | { t: "log"; id: number; line: LogLine }
  | { t: "progress"; id: number; value: number; message?: string }
  | { t: "fetch"; id: number; req: number; request: FetchRequestInfo }
  | { t: "k8s"; id: number; req: number; request: K8sHostRequest }
  /** A `ctx.step` question: the stored result of `name` ("get"), or store `value` ("put"). */
  | { t: "step"; id: number; req: number; op: "get" | "put"; name: string; value?: unknown }
  /** A real `ctx.fetch` exchange of a call with `recordFetch`. */
  | { t: "fetched-real"; id: number; exchange: RecordedFetch }
  /** Answer to a {@link LoadMessage}. */
  | { t: "loaded"; id: number }
  /** An uncaught error or unhandled rejection: the worker must be replaced. */
  | { t: "crash"; error: RemoteError };
