/**
 * Core types shared by the compiler, the executor, the node runners and every layer above
 * them (cli/, server/, k8s/, builder/). The executor only ever sees a {@link CompiledWorkflow}.
 *
 * @module
 */

/** Trigger kinds of SPEC §2. */
export const TriggerType = {
  Manual: "manual",
  Cron: "cron",
  Queue: "queue",
} as const;
/** One of {@link TriggerType}. */
export type TriggerType = typeof TriggerType[keyof typeof TriggerType];

/** A manual trigger: runs start from the CLI or the HTTP API. */
export interface ManualTrigger {
  type: "manual";
}

/** A cron trigger, evaluated in-process by `dev` and `serve` (and as a CronJob in k8s). */
export interface CronTrigger {
  type: "cron";
  /** Standard 5-field cron expression. */
  schedule: string;
  /** IANA time zone; undefined means UTC. */
  timezone?: string;
  /** Run input for every tick. */
  input?: unknown;
}

/** A NATS queue trigger (JetStream when `stream` is set). */
export interface QueueTrigger {
  type: "queue";
  subject: string;
  stream?: string;
  /** Durable consumer name; defaults to the workflow name. */
  durable: string;
  maxConcurrency?: number;
  /** Token bucket: `count` starts per `perMs` milliseconds. */
  rateLimit?: { count: number; perMs: number };
  maxDeliver?: number;
  /** Dead-letter subject; defaults to `<subject>.dlq` when `stream` is set. */
  deadLetter?: string;
}

/** Any trigger. */
export type Trigger = ManualTrigger | CronTrigger | QueueTrigger;

/** How a webhook request proves its sender (`webhooks:`, an addition to SPEC §2). */
export const WebhookVerify = {
  /** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
  GitHub: "github",
  /** A header holding the body's HMAC (hex, `<algorithm>=<hex>` or base64). */
  Hmac: "hmac",
  /** `Authorization: Bearer <secret>`. */
  Bearer: "bearer",
} as const;
/** One of {@link WebhookVerify}. */
export type WebhookVerify = typeof WebhookVerify[keyof typeof WebhookVerify];

/** HMAC algorithms of `verify: hmac`. */
export const HmacAlgorithm = {
  Sha1: "sha1",
  Sha256: "sha256",
  Sha512: "sha512",
} as const;
/** One of {@link HmacAlgorithm}. */
export type HmacAlgorithm = typeof HmacAlgorithm[keyof typeof HmacAlgorithm];

/** One `webhooks:` entry: `POST /hooks/<name>` publishes the verified body to `subject`. */
export interface WebhookConfig {
  /** Literal NATS subject (no wildcards), stored by a JetStream stream. */
  subject: string;
  verify: WebhookVerify;
  /** Name of the secret holding the key or token; its value is never in workflow.yaml. */
  secret: string;
  /** Signature header of `verify: hmac`; undefined means "X-Signature-256". */
  header?: string;
  /** Algorithm of `verify: hmac`; undefined means sha256. */
  algorithm?: HmacAlgorithm;
}

/** What a node may do (SPEC §4). Everything not listed is denied. */
export interface Capabilities {
  /** Hosts (optionally `host:port`); `github.com` also grants `*.github.com`. */
  net: string[];
  /** Executables a subprocess node may run. */
  run: string[];
  /** Kubernetes API access for `ctx.k8s` (issue 4); undefined means none. */
  k8s?: unknown;
}

/** Node kinds: a TypeScript module run in a sandboxed worker, or a subprocess. */
export const NodeKind = {
  Module: "module",
  Command: "command",
} as const;
/** One of {@link NodeKind}. */
export type NodeKind = typeof NodeKind[keyof typeof NodeKind];

/** A node after compilation: every default applied, every duration in milliseconds. */
export interface CompiledNode {
  id: string;
  kind: NodeKind;
  /** Absolute path of the module (kind "module"). */
  path?: string;
  /** argv of a subprocess node (kind "command"); relative paths resolve from the workflow dir. */
  command?: string[];
  capabilities: Capabilities;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Retries after the first attempt (1 = up to 2 attempts). */
  retries: number;
  allowFailure: boolean;
  /** Output cache lifetime; undefined means no cache. */
  cacheMs?: number;
  /** sha256 (hex) of the node's source file (or command line for subprocess nodes). */
  codeHash: string;
}

/** A directed edge of the DAG. */
export interface Edge {
  from: string;
  to: string;
}

/** Engine settings derived from `config:` (the raw map is still visible as `ctx.config`). */
export interface ExecutionSettings {
  /** Default per-attempt node timeout. @default 30_000 */
  timeoutMs: number;
  /** Default retries. @default 1 */
  retries: number;
  /** Abort everything on the first final node failure. @default true */
  failFast: boolean;
  /** Nodes executing at once within one run. @default 16 */
  maxParallel: number;
  /** First retry delay; doubles each attempt, with jitter. @default 200 */
  backoffMs: number;
  /** Cap of the backoff delay. @default 30_000 */
  maxBackoffMs: number;
}

/** SPEC §2 `concurrency`, per workflow in dev/serve. */
export interface ConcurrencySettings {
  maxRuns: number;
  queueLimit: number;
  strategy: "append" | "replace";
  startDelayMs: number;
}

/** SPEC §2 `retention`. */
export interface RetentionSettings {
  maxRuns?: number;
  maxAgeMs?: number;
}

/** The output of `compileWorkflow()`: a validated workflow with its DAG. */
export interface CompiledWorkflow {
  name: string;
  /** Normalised semver, e.g. "1.0.0". */
  version: string;
  description?: string;
  /** Absolute path of the workflow directory. */
  dir: string;
  /** Absolute path of workflow.yaml. */
  file: string;
  triggers: Trigger[];
  /** Base URL per service name, as declared in `services:` (defaults are applied by ctx.fetch). */
  services: Record<string, string>;
  /** Every node of the DAG, the onError node excluded. */
  nodes: Record<string, CompiledNode>;
  /** Topological order of `nodes` (stable: declaration order among ready nodes). */
  order: string[];
  edges: Edge[];
  /** Declared parents of each DAG node (declaration order). */
  parents: Record<string, string[]>;
  /** Declared children of each DAG node (declaration order). */
  children: Record<string, string[]>;
  roots: string[];
  sinks: string[];
  /** Node run when a run fails; it receives `{ runId, failedNode, error, input }`. */
  onError?: CompiledNode;
  /** JSON Schema for the run input. */
  inputSchema?: unknown;
  /** The raw `config:` map, visible as `ctx.config`. */
  config: Record<string, unknown>;
  settings: ExecutionSettings;
  concurrency?: ConcurrencySettings;
  retention?: RetentionSettings;
  /** The raw `deployment:` map (k8s only). */
  deployment?: Record<string, unknown>;
  /** Webhooks by name (`webhooks:`); undefined when none are declared. */
  webhooks?: Record<string, WebhookConfig>;
  /** sha256 (hex) over workflow.yaml and every node's code: the workflow's code version. */
  codeHash: string;
}

/** Run statuses of SPEC §6. */
export const RunStatus = {
  Queued: "queued",
  Running: "running",
  Succeeded: "succeeded",
  Failed: "failed",
  Cancelled: "cancelled",
} as const;
/** One of {@link RunStatus}. */
export type RunStatus = typeof RunStatus[keyof typeof RunStatus];

/** Node statuses of SPEC §6. */
export const NodeStatus = {
  Pending: "pending",
  Running: "running",
  Succeeded: "succeeded",
  Failed: "failed",
  Skipped: "skipped",
  Cancelled: "cancelled",
} as const;
/** One of {@link NodeStatus}. */
export type NodeStatus = typeof NodeStatus[keyof typeof NodeStatus];

/** A serialisable error as stored in run records. */
export interface ErrorInfo {
  message: string;
  /** Error class name, e.g. "TimeoutError". */
  name?: string;
  stack?: string;
  /** The capability the node must declare, when the error is a sandbox denial. */
  capability?: string;
}

/** The state of one node within a run record. */
export interface NodeRecord {
  status: NodeStatus;
  attempts: number;
  durationMs?: number;
  startedAt?: string;
  finishedAt?: string;
  output?: unknown;
  error?: ErrorInfo;
  /** True when the output came from the node output cache. */
  cached?: boolean;
  /** Children chosen with `ctx.route()`; absent means every declared child fired. */
  routes?: string[];
  /** Last `ctx.progress()` report. */
  progress?: { value: number; message?: string };
}

/** The run record of SPEC §6. */
export interface RunRecord {
  runId: string;
  workflow: string;
  version: string;
  status: RunStatus;
  input: unknown;
  result?: unknown;
  error?: { node: string; message: string };
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  nodes: Record<string, NodeRecord>;
  /** What started the run: "manual", "cron", "queue", "webhook", "test". */
  trigger?: string;
  /** The workflow code version the run executes. */
  codeHash?: string;
}

/** Log levels of `ctx.log`. */
export const LogLevel = {
  Debug: "debug",
  Info: "info",
  Warn: "warn",
  Error: "error",
} as const;
/** One of {@link LogLevel}. */
export type LogLevel = typeof LogLevel[keyof typeof LogLevel];

/** One structured log line, tagged with run, node and attempt. */
export interface LogLine {
  ts: string;
  level: LogLevel;
  msg: string;
  runId: string;
  node?: string;
  attempt?: number;
  fields?: Record<string, unknown>;
}

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
  /** Receives `ctx.progress(value, message)` reports. */
  onProgress?: (value: number, message?: string) => void;
  /** When set, `ctx.fetch` is answered by it instead of the network. */
  fetchMock?: FetchMock;
  /**
   * The node's `ctx.k8s`; set only for a node that declares `capabilities.k8s` (without it the
   * node has no `ctx.k8s`). Its transport stays on the host: only calls and answers cross.
   */
  k8s?: K8sAccess;
}

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
