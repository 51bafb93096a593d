/**
 * Messages between the worker runner (host) and a sandbox worker (engine/_node_worker.ts).
 * This is the hot path: each call is one `call` message out and one `result` or `error`
 * message back, plus one message per log line, progress report and mocked fetch.
 *
 * @module
 */

import type { Denial } from "./_permissions.ts";
import type { FetchRequestInfo, FetchResponseInfo, LogLine } from "./types.ts";

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
  secrets: Record<string, unknown>;
  services: Record<string, string>;
  children: string[];
  tmpDir: string;
  /** `ctx.fetch` goes to the host's fetch mock instead of the network. */
  mock: boolean;
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

/** Host → worker. */
export type ToWorker = CallMessage | AbortMessage | FetchedMessage;

/** An error crossing the worker boundary. */
export interface RemoteError {
  message: string;
  name?: string;
  stack?: string;
  /** Set when the error is (or wraps) a sandbox permission denial. */
  denial?: Denial;
  /** The node cannot succeed on retry (it cannot be loaded, its output cannot be copied). */
  nonRetryable?: boolean;
}

/** Worker → host. */
export type FromWorker =
  | { t: "result"; id: number; output: unknown; routes?: string[] }
  | { t: "error"; id: number; error: RemoteError }
  | { t: "log"; id: number; line: LogLine }
  | { t: "progress"; id: number; value: number; message?: string }
  | { t: "fetch"; id: number; req: number; request: FetchRequestInfo }
  /** An uncaught error or unhandled rejection: the worker must be replaced. */
  | { t: "crash"; error: RemoteError };
