/**
 * The compiled workflow model: what `compileWorkflow()` produces and the executor, the node
 * runners and every layer above them read. The executor only ever sees a {@link CompiledWorkflow}.
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
  /**
   * Services whose secrets the node sees in `ctx.secrets` (SPEC §4), besides those whose base
   * URL host `net` allows; undefined means none.
   */
  secrets?: string[];
}

/**
 * Node kinds: a TypeScript module run in a sandboxed worker, a subprocess, or one of the
 * code-less durable nodes of SPEC §9–10 that the executor handles itself (a sub-workflow run,
 * a durable sleep, a wait for an event).
 */
export const NodeKind = {
  Module: "module",
  Command: "command",
  Workflow: "workflow",
  Sleep: "sleep",
  Wait: "wait",
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
  /**
   * Record the node's `ctx.fetch` responses (redacted) in its run record, so that
   * `test --from-run` writes them as fetch mocks. @default undefined (not recorded)
   */
  recordFetch?: true;
  /** sha256 (hex) of the node's source file (or command line for subprocess nodes). */
  codeHash: string;
  /** `map:`: run once per element of the parent's output field (SPEC §9). */
  map?: MapSettings;
  /** Absolute directory of the child workflow (kind "workflow"). */
  workflow?: string;
  /** Duration of a durable sleep (kind "sleep"). */
  sleepMs?: number;
  /** The event a wait node parks for (kind "wait"). */
  wait?: WaitSettings;
  /**
   * Heap limit of the node's sandbox in MiB (`limits.memory`, default `config.limits.memory`).
   * @default 256
   */
  memoryMiB?: number;
  /** `run`: a fresh sandbox (realm) per attempt; undefined: warm across runs. */
  isolation?: "run";
}

/** `map: { over, concurrency }` of a node. */
export interface MapSettings {
  /** Top-level field of the parent's output holding the array; "." is the output itself. */
  over: string;
  /** Elements in flight at once. @default settings.maxParallel */
  concurrency: number;
}

/** `wait: { event, timeout }` of a node. */
export interface WaitSettings {
  /** Event name, as in `POST /runs/:id/events/:event`. */
  event: string;
  /** The node fails when no event arrived in this time; undefined waits forever. */
  timeoutMs?: number;
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
  /** Default heap limit of a node's sandbox in MiB (`config.limits.memory`). @default 256 */
  memoryMiB?: number;
}

/** SPEC §2 `concurrency`, per workflow in dev/serve. */
export interface ConcurrencySettings {
  /** Runs executing at once (per key value when `key` is set). */
  maxRuns: number;
  /** Runs waiting (per key value when `key` is set). */
  queueLimit: number;
  strategy: "append" | "replace";
  startDelayMs: number;
  /**
   * SPEC §10 `concurrency.key`: a JSON Pointer into the run input (e.g. "/tenant"); the limits
   * above then apply per key value (see `concurrencyKeyOf()`). @default undefined (one list)
   */
  key?: string;
  /** With `key`: runs executing at once over all key values. @default undefined (no cap) */
  maxRunsTotal?: number;
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
  /**
   * Every workflow reachable through `workflow:` nodes, by absolute directory (filled by
   * `loadWorkflow()`); undefined when there is none.
   */
  subWorkflows?: Record<string, CompiledWorkflow>;
}
