/**
 * The run record of SPEC §6 and its statuses and log lines: what the executor writes, the
 * stores keep and the API, CLI and dashboard show.
 *
 * @module
 */
/** Run statuses of SPEC §6. */
export const RunStatus = {
  Queued: "queued",
  Running: "running",
  Succeeded: "succeeded",
  Failed: "failed",
  Cancelled: "cancelled",
  /** Parked at a sleep or wait node (SPEC §10): holds no worker and no maxRuns slot. */
  Waiting: "waiting",
} as const;
/** One of {@link RunStatus}. */
export type RunStatus = typeof RunStatus[keyof typeof RunStatus];

/** The statuses a run (or a node) never leaves: succeeded, failed, cancelled. */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set([
  RunStatus.Succeeded,
  RunStatus.Failed,
  RunStatus.Cancelled,
]);

/** True when `status` is one of {@link FINISHED_STATUSES}. */
export function isFinishedStatus(status: string): boolean {
  return FINISHED_STATUSES.has(status);
}

/** Node statuses of SPEC §6. */
export const NodeStatus = {
  Pending: "pending",
  Running: "running",
  Succeeded: "succeeded",
  Failed: "failed",
  Skipped: "skipped",
  Cancelled: "cancelled",
  /** A sleep or wait node parked until its timer or event (SPEC §10). */
  Waiting: "waiting",
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

/** One attempt of a node (SPEC §11 `nodes.<id>.history`). */
export interface AttemptRecord {
  /** 1-based attempt number. */
  attempt: number;
  /** "running" while the attempt is in flight, then how it ended. */
  status: "running" | "succeeded" | "failed" | "cancelled";
  startedAt: string;
  finishedAt?: string;
  /** Why the attempt failed or was cancelled (redacted). */
  error?: { message: string; name?: string };
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
  /** Progress of a map node (SPEC §9); per-element records are stored apart. */
  items?: MapItemCounts;
  /** The child run of a sub-workflow node (SPEC §9). */
  childRunId?: string;
  /**
   * What a waiting node waits for (SPEC §10): an event, a due time (ISO), or both; or, for a
   * sub-workflow node, its child run that parked (`childRunId`), or for a mapped one the number
   * of element child runs that parked (`children`).
   */
  waitingFor?: { event?: string; dueAt?: string; childRunId?: string; children?: number };
  /** Every attempt made, oldest first (absent for cache hits and nodes that never started). */
  history?: AttemptRecord[];
  /** The run whose output this node reused instead of running (`POST /runs/:id/retry`). */
  reusedFrom?: string;
  /** `ctx.fetch` responses of the succeeded attempt, for a node with `recordFetch: true` (redacted). */
  fetches?: RecordedFetch[];
  /**
   * Times the engine stopped (crashed, was killed) while this node was running; counted by
   * crash recovery. At {@link MAX_INTERRUPTIONS} the node fails instead of running again.
   */
  interruptions?: number;
}

/** `nodes.<id>.items` of a map node. */
export interface MapItemCounts {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
}

/** One `ctx.fetch` exchange recorded for `pipedreamer test --from-run` (no request headers). */
export interface RecordedFetch {
  service: string;
  method: string;
  /** Path and query as the node passed them. */
  path: string;
  status: number;
  /** Parsed JSON, or the text when the body is not JSON. */
  body?: unknown;
}

/** Engine stops during one node after which a resumed run fails instead (SPEC §4). */
export const MAX_INTERRUPTIONS = 3;

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
  /** The run that started this one through a `workflow:` node (SPEC §9). */
  parentRunId?: string;
  /** That node's id in the parent run. */
  parentNode?: string;
  /** The run this one retries (`POST /runs/:id/retry`). */
  retryOf?: string;
  /** The node a retry started from (`{ "from": node }`): it and its descendants ran again. */
  retryFrom?: string;
  /** The overlay on the workflow's `config:` that the run used (e.g. serve's /app/config). */
  config?: Record<string, unknown>;
  /** The W3C `traceparent` the run was started with: its trace's parent span. */
  traceparent?: string;
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
