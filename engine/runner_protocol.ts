/**
 * The contract between the executor and the node runners: one attempt of one node
 * ({@link NodeCall} → {@link NodeCallResult}), the host services a call may use (fetch mocks,
 * `ctx.k8s`), and the clock and cache the executor is given.
 *
 * @module
 */

import type { CompiledNode, CompiledWorkflow } from "./workflow_model.ts";
import type { LogLine, RecordedFetch, RunRecord } from "./run_record.ts";
/** A request made through `ctx.fetch`, as seen by a fetch mock. */
export interface FetchRequestInfo {
  service: string;
  method: string;
  /** Path and query as the node passed it, e.g. "/user/repos?per_page=5". */
  path: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A mocked response. */
export interface FetchResponseInfo {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
}

/**
 * Answers `ctx.fetch` calls on the host side instead of the network (fixtures without
 * `--live`). Throwing fails the node with that message.
 */
export type FetchMock = (request: FetchRequestInfo) => Promise<FetchResponseInfo>;

/** One `ctx.k8s` call, as the host answers it. */
export interface K8sHostRequest {
  /** HTTP method, e.g. "GET". */
  method: string;
  /** API server path with optional query, e.g. `/api/v1/pods?labelSelector=app%3Dweb`. */
  path: string;
  /** JSON body (create, update, patch). */
  body?: unknown;
}

/** The answer to a {@link K8sHostRequest}: a non-2xx status is an answer, not a rejection. */
export interface K8sHostResponse {
  status: number;
  /** Parsed JSON, or the text when the body is not JSON. */
  body: unknown;
}

/**
 * Answers `ctx.k8s` calls on the host, where the credentials are (the service account token
 * in the cluster, the kubeconfig in dev, a fixture's `"k8s"` list in tests): the node only
 * ever sees requests and answers. The engine does not know Kubernetes; k8s/ provides the
 * implementations (`createK8sTransport`, `createK8sMock`, `guardK8sTransport`). Rejecting
 * fails the call with that error (a `NodeFailure` of kind "capability" for a denial).
 */
export type K8sHostTransport = (request: K8sHostRequest) => Promise<K8sHostResponse>;

/** The host side of one node's `ctx.k8s`. */
export interface K8sAccess {
  /** `ctx.k8s.namespace`: the workflow's namespace, where `scope: namespace` rules apply. */
  namespace: string;
  /** Answers the node's calls; restricted to what its `capabilities.k8s` grants. */
  transport: K8sHostTransport;
}

/** Everything a runner needs to execute one attempt of one node. */
export interface NodeCall {
  workflow: CompiledWorkflow;
  node: CompiledNode;
  input: unknown;
  runId: string;
  /** 1-based attempt number. */
  attempt: number;
  /** Effective config (workflow config with overlays). */
  config: Record<string, unknown>;
  /** Secrets keyed by service. */
  secrets: Record<string, unknown>;
  /** Per-run temporary directory, the only place a node may write. */
  tmpDir: string;
  /** Receives every `ctx.log` line (the executor redacts and forwards it). */
  onLog: (line: LogLine) => void;
  /** Where `ctx.step` keeps its results; without it `ctx.step` fails. */
  step?: StepStore;
  /** `ctx.item` of one element of a map node (SPEC §9); undefined for other nodes. */
  item?: { index: number; total: number };
  /** Receives `ctx.progress(value, message)` reports. */
  onProgress?: (value: number, message?: string) => void;
  /** When set, `ctx.fetch` is answered by it instead of the network. */
  fetchMock?: FetchMock;
  /** W3C `traceparent` of this attempt's span: `ctx.fetch` sends it unless the node sets one. */
  traceparent?: string;
  /**
   * Receives every `ctx.fetch` exchange over the real network (not mocked ones) before the node
   * gets the response: set for a node with `recordFetch`.
   */
  onFetch?: (exchange: RecordedFetch) => void;
  /**
   * The node's `ctx.k8s`; set only for a node that declares `capabilities.k8s` (without it the
   * node has no `ctx.k8s`). Its transport stays on the host: only calls and answers cross.
   */
  k8s?: K8sAccess;
}

/** The host side of `ctx.step` (SPEC §10): stored step results of one node (or map element). */
export interface StepStore {
  /** The stored result of step `name`, or undefined when it has not finished. */
  get(name: string): Promise<{ value: unknown } | undefined>;
  /** Stores the result unless one is stored already; returns the stored one (first wins). */
  put(name: string, value: unknown): Promise<{ value: unknown }>;
}

/** A child run of a `workflow:` node (SPEC §9), as the executor asks for it. */
export interface ChildRunRequest {
  /** The child workflow (compiled, from `CompiledWorkflow.subWorkflows`). */
  workflow: CompiledWorkflow;
  /** The node's input (one element's, under `map:`). */
  input: unknown;
  /** Deterministic: `<parentRunId>~<node>` (`~<index>` per map element), so a resumed parent finds it. */
  runId: string;
  parentRunId: string;
  parentNode: string;
  /** Aborted when the parent node is (cancellation, fail-fast). */
  signal: AbortSignal;
}

/** Runs (or resumes, or returns the finished) child run of a request; resolves with its record. */
export type ChildRunner = (request: ChildRunRequest) => Promise<RunRecord>;

/** What one successful attempt returns. */
export interface NodeCallResult {
  output: unknown;
  /** Children chosen with `ctx.route()`; undefined means every declared child fires. */
  routes?: string[];
}

/**
 * Executes one attempt of one node. Implementations: the sandboxed worker runner (default),
 * the subprocess runner, and the in-process runner used by tests and benchmarks.
 *
 * `run` rejects with a {@link NodeFailure}-shaped error (see engine/errors.ts) when the
 * attempt fails, times out (`signal` aborted with a TimeoutError reason) or is cancelled.
 */
export interface NodeRunner {
  run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult>;
  /** Releases workers and child processes. */
  close(): Promise<void>;
  /**
   * Creates a per-run temp dir (for {@link NodeCall.tmpDir}) inside a base directory the
   * runner's sandboxes can already write to, so that warm workers are reused across runs.
   * Executors use it when present (and give the directory back with `releaseTmpDir`, or
   * remove it, after the run); a tmpDir made elsewhere still works but gets sandboxes of its
   * own.
   */
  makeTmpDir?(runId: string): Promise<string>;
  /**
   * Takes back a dir made by `makeTmpDir` once its run is over, instead of the executor
   * removing it: the runner may keep an empty one for a later run (a mkdir and a rmdir cost
   * hundreds of microseconds on a journaling file system) and removes any other. Never rejects.
   */
  releaseTmpDir?(dir: string): Promise<void>;
  /**
   * Starts the sandbox a call of this node will run in, if it is not running yet; the executor
   * waits for it before the attempt's timeout starts, so a cold start is not charged to the
   * node. Returns undefined when the sandbox is ready. Never rejects.
   */
  prepare?(call: Pick<NodeCall, "workflow" | "node" | "tmpDir" | "k8s">): Promise<void> | undefined;
}

/** Time source of the executor, replaceable by a fake clock in tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with `signal.reason` when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Node output cache (SPEC §2 `cache:`), keyed by code hash + input hash + config. */
export interface NodeCache {
  get(key: string): Promise<{ output: unknown; routes?: string[] } | undefined>;
  set(key: string, value: { output: unknown; routes?: string[] }, ttlMs: number): Promise<void>;
}
