/**
 * The durable run store interface: run records, node transitions, logs, the node output cache,
 * retention and small engine state. Implemented by SQLite (embedded default) and Postgres
 * (several replicas sharing history); both pass store/_common_suite.ts.
 *
 * @module
 */

import type {
  DurableState,
  LogLine,
  MapItemRecord,
  NodeCache,
  NodeRecord,
  RunRecord,
  RunStatus,
  WaitRecord,
  WaitResolution,
} from "../engine/mod.ts";

/** A run record without its node records, as returned by {@link RunStore.listRuns}. */
export type RunSummary = Omit<RunRecord, "nodes">;

/** A stored log line with its per-run sequence number (1, 2, 3, … — the SSE event id). */
export interface StoredLogLine extends LogLine {
  seq: number;
}

/** Options of {@link RunStore.createRun}. */
export interface CreateRunOptions {
  /**
   * Client-supplied key (HTTP `Idempotency-Key`): while a run with the same workflow and key was
   * created less than the store's idempotency window ago, that run is returned instead.
   * @default undefined (no idempotency)
   */
  idempotencyKey?: string;
  /**
   * Replica that executes the run: the run is created already claimed, so no other replica can
   * resume it while the lease lasts (see {@link RunStore.claimRun}).
   * @default undefined (unclaimed)
   */
  owner?: string;
  /** Lease length when `owner` is set. @default 30_000 */
  leaseMs?: number;
  /**
   * Resolve once the run is committed, before it is durable, for a caller that acknowledges
   * nothing about it before awaiting `durable()` of the result or a later durable write (the
   * run's final transition). Only SQLite with durability `full` resolves earlier (before its
   * fsync); the other stores ignore it. @default false
   */
  beforeDurable?: boolean;
}

/** What {@link RunStore.createRun} returns. */
export interface CreateRunResult {
  /** The stored run: the new one, or the existing one for a repeated idempotency key. */
  record: RunRecord;
  /** False when an existing run was returned for the idempotency key. */
  created: boolean;
  /** The lease of a new run created with an `owner` (epoch 1). @default undefined */
  lease?: Lease;
  /**
   * With `beforeDurable`, when the store resolved before the write was durable: resolves once
   * it is (rejects when that failed). @default undefined (the write is durable already)
   */
  durable?: () => Promise<void>;
}

/**
 * A lease held on a run: its owner and the claim it came from. Every claim increments the
 * run's epoch, so a replica that lost the run (another one claimed it) holds a stale epoch and
 * its fenced writes are refused with `LeaseLostError`.
 */
export interface Lease {
  owner: string;
  epoch: number;
}

/** Options of {@link RunStore.claimLease}. */
export interface ClaimOptions {
  /**
   * Take the run even while another owner's lease is live: only for a caller that knows that
   * owner is gone (the one process holding a SQLite store's data directory). @default false
   */
  force?: boolean;
}

/** Options of {@link RunStore.listRuns}. */
export interface ListRunsOptions {
  /** Only runs with this status (or any of these). @default undefined (every status) */
  status?: RunStatus | RunStatus[];
  /** Only runs of this workflow. @default undefined (every workflow) */
  workflow?: string;
  /** Only runs whose id starts with this text (case-sensitive). @default undefined */
  runIdPrefix?: string;
  /** Only runs created at or after this time (epoch ms). @default undefined */
  createdFrom?: number;
  /** Only runs created before this time (epoch ms). @default undefined */
  createdBefore?: number;
  /** Page size, 1 to 1000. @default 50 */
  limit?: number;
  /** `nextCursor` of the previous page. @default undefined (first page) */
  cursor?: string;
}

/** One page of {@link RunStore.listRuns}, newest run first. */
export interface RunPage {
  runs: RunSummary[];
  /** Cursor of the next page; undefined on the last page. Runs created later never shift it. */
  nextCursor?: string;
}

/**
 * Record-level fields of {@link RunStore.updateRun}. A key that is present is written (present
 * with the value undefined clears the field); an absent key is left unchanged.
 */
export type RunUpdate = Partial<
  Pick<RunRecord, "status" | "result" | "error" | "startedAt" | "finishedAt" | "durationMs">
>;

/** Options of {@link RunStore.listUnfinished}. */
export interface ListUnfinishedOptions {
  /** Only runs of this workflow. @default undefined (every workflow) */
  workflow?: string;
}

/** Options of {@link RunStore.getLogs}. */
export interface GetLogsOptions {
  /** Only lines of this node. @default undefined (every line) */
  node?: string;
  /** Only lines with a larger sequence number (SSE `Last-Event-ID`). @default 0 */
  afterSeq?: number;
  /** At most this many lines. @default undefined (no limit) */
  limit?: number;
}

/** Options of {@link RunStore.prune}. At least one limit must be given for anything to go. */
export interface PruneOptions {
  /** Keep at most this many finished runs (the newest). @default undefined (no count limit) */
  maxRuns?: number;
  /** Delete finished runs created longer ago than this. @default undefined (no age limit) */
  maxAgeMs?: number;
  /** Only prune runs of this workflow. @default undefined (every workflow) */
  workflow?: string;
}

/**
 * Durable storage of runs for `dev`, `serve` and `runs`. Every method is safe to call from
 * several replicas sharing one database (Postgres). Unknown run ids are not errors: getters
 * return undefined or [], writers return false. Misuse (an empty id, a bad limit) throws
 * TypeError or RangeError.
 *
 * @example
 * ```ts
 * import { openStore } from "./mod.ts";
 * const store = await openStore(undefined, { dataDir: ".pipedreamer" });
 * const { record } = await store.createRun(
 *   { runId: "r1", workflow: "demo", version: "1.0.0", status: "queued", input: {}, nodes: {} },
 *   { idempotencyKey: "abc" },
 * );
 * await store.updateNode(record.runId, "fetch", { status: "running", attempts: 1 });
 * await store.close();
 * ```
 */
export interface RunStore extends DurableState {
  /**
   * True when the store applies one caller's writes in call order even when the caller does
   * not await each before making the next, and settles them in that order (SqliteStore's group
   * commit). The run manager then pipelines a run's hooks (`ExecuteOptions.pipelineHooks`) so
   * its transitions share commits. False for a connection pool, whose concurrent writes may
   * land out of order.
   * @default false
   */
  readonly ordersWrites?: boolean;
  /**
   * Stores a new run (with any node records it already has). Atomic: concurrent calls with the
   * same idempotency key, from any number of processes, create exactly one run.
   * @throws {TypeError} when the record is malformed or its run id already exists
   */
  /**
   * Calls `write` (calls of this store's write methods, made synchronously) for transitions
   * nobody is told of, nor waits for, before a later write of the same caller settles: a run's
   * start, node transitions and log lines while its executor goes on (`pipelineHooks`). Their
   * promises still settle only once they are durable; SQLite `full` just starts no fsync for
   * them: the next one anybody needs covers them (or one a few ms later). Optional: without it,
   * call `write()` directly.
   */
  lazily?<T>(write: () => T): T;
  /**
   * Resolves once the writes called so far are committed (a process crash cannot lose them),
   * without waiting for their fsync: at the end of the current event-loop turn, in the commit
   * those writes share with every other write of the turn. Rejects when that commit fails. What
   * a caller awaits before it does what a crash must not undo once done (a node's children
   * start once its success is committed). Optional: stores that cannot tell lack it.
   */
  committed?(): Promise<void>;
  createRun(record: RunRecord, options?: CreateRunOptions): Promise<CreateRunResult>;
  /** The run with its node records, or undefined for an unknown id. */
  getRun(runId: string): Promise<RunRecord | undefined>;
  /**
   * Runs newest first, one page at a time.
   * @throws {TypeError} for a malformed cursor
   * @throws {RangeError} for a limit outside 1..1000
   */
  listRuns(options?: ListRunsOptions): Promise<RunPage>;
  /**
   * Writes record-level fields; false for an unknown run. With `fence`, only while that lease
   * is the run's current one.
   * @throws {LeaseLostError} when `fence` is no longer the run's lease (nothing is written)
   * @throws {UnserializableValueError} when `result` or `error` cannot be stored as JSON
   */
  updateRun(runId: string, update: RunUpdate, fence?: Lease): Promise<boolean>;
  /**
   * Persists one node transition (the whole node record, output included); false for an
   * unknown run. Writes of one run are applied in call order. With `fence`, only while that
   * lease is the run's current one.
   * @throws {LeaseLostError} when `fence` is no longer the run's lease (nothing is written)
   * @throws {UnserializableValueError} when the record (its output) cannot be stored as JSON;
   *   nothing is written and the store stays usable
   */
  updateNode(runId: string, nodeId: string, node: NodeRecord, fence?: Lease): Promise<boolean>;
  /**
   * Runs that are `running` or `queued`, oldest first, with their node records (resume).
   * `waiting` runs are not listed: resolving their wait queues them again.
   */
  listUnfinished(options?: ListUnfinishedOptions): Promise<RunRecord[]>;
  /**
   * Takes the lease on an unfinished run for `owner` when nobody else holds a live lease on it
   * (re-claiming one's own run renews it). Only the replica that gets true may execute it.
   * @throws {RangeError} when leaseMs is not a positive number
   */
  claimRun(runId: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * `claimRun()` that returns the lease taken (its epoch is one above the previous claim's), or
   * undefined when the run is finished, unknown or leased by another owner (unless `force`).
   * Lease times come from the database's clock where the store is shared (Postgres).
   * @throws {RangeError} when leaseMs is not a positive number
   */
  claimLease(
    runId: string,
    owner: string,
    leaseMs: number,
    options?: ClaimOptions,
  ): Promise<Lease | undefined>;
  /**
   * Extends `owner`'s lease (only the lease of claim `epoch` when given); false when the run is
   * finished, unknown or claimed by another (or claimed again since `epoch`).
   */
  renewLease(runId: string, owner: string, leaseMs: number, epoch?: number): Promise<boolean>;
  /**
   * Gives up `lease` so that any replica may claim the run at once; later writes fenced by it
   * are refused. False when it is no longer the run's lease.
   */
  releaseLease(runId: string, lease: Lease): Promise<boolean>;
  /**
   * Unfinished runs (`running`, `queued`) that nobody holds a live lease on, oldest first,
   * without node records: what a recovery scan may claim.
   */
  listClaimable(options?: ListUnfinishedOptions): Promise<RunSummary[]>;
  /**
   * Appends log lines to a run; each gets the run's next sequence number. False for an unknown
   * run. With `fence`, only while that lease is the run's current one.
   * @throws {LeaseLostError} when `fence` is no longer the run's lease (nothing is written)
   */
  appendLogs(runId: string, lines: LogLine[], fence?: Lease): Promise<boolean>;
  /**
   * `DurableState.putMapItem`; with `fence`, only while that lease is the run's current one.
   * @throws {LeaseLostError} when `fence` is no longer the run's lease (nothing is written)
   */
  putMapItem(runId: string, nodeId: string, item: MapItemRecord, fence?: Lease): Promise<boolean>;
  /** `DurableState.putStep`, fenced like {@link RunStore.putMapItem}. */
  putStep(
    runId: string,
    key: string,
    name: string,
    value: unknown,
    fence?: Lease,
  ): Promise<{ value: unknown }>;
  /** `DurableState.putWait`, fenced like {@link RunStore.putMapItem}. */
  putWait(
    runId: string,
    nodeId: string,
    wait: { event?: string; dueAt?: number },
    fence?: Lease,
  ): Promise<WaitRecord | undefined>;
  /**
   * `DurableState.resolveWait`, fenced like {@link RunStore.putMapItem} when `fence` is given
   * (the run's own executor); events and timers resolve unfenced.
   */
  resolveWait(
    runId: string,
    nodeId: string,
    resolution: WaitResolution,
    fence?: Lease,
  ): Promise<boolean>;
  /**
   * Queues a parked run again (compare-and-set `waiting` → `queued`): the parent of a child
   * run whose wait resolved. False when the run is not `waiting`.
   */
  requeueParked(runId: string): Promise<boolean>;
  /** A run's log lines in sequence order; [] for an unknown run. */
  getLogs(runId: string, options?: GetLogsOptions): Promise<StoredLogLine[]>;
  /** The node output cache (SPEC §2 `cache:`); expired entries are never returned. */
  readonly cache: NodeCache;
  /**
   * Deletes finished runs beyond `maxRuns` and older than `maxAgeMs`, with their nodes, logs and
   * idempotency keys (running and queued runs are never pruned), and expired cache entries.
   * @returns the number of runs deleted
   * @throws {RangeError} for a negative maxRuns or a non-positive maxAgeMs
   */
  prune(options: PruneOptions): Promise<number>;
  /** A small engine state value (e.g. a cron trigger's last tick), or undefined. */
  getState(key: string): Promise<unknown>;
  /** Writes a small engine state value (any JSON value). */
  setState(key: string, value: unknown): Promise<void>;
  /**
   * Compare-and-set: writes `next` only when the stored value equals `expected` (undefined:
   * only when the key is absent). Exactly one of several concurrent callers with the same
   * `expected` gets true, so two replicas never both fire one cron tick.
   */
  setStateIf(key: string, expected: unknown, next: unknown): Promise<boolean>;
  /** Releases the database; idempotent. */
  close(): Promise<void>;
}

/**
 * When a write's promise resolves, what it survives:
 * - `full`: a power loss or kernel crash too. SQLite fsyncs its WAL after every group commit
 *   (off the main thread) before the commit's writes resolve; Postgres keeps the server's
 *   `synchronous_commit` (on by default).
 * - `relaxed`: a crash of the process (kill -9), but a power loss or kernel crash may lose the
 *   last commits. SQLite resolves writes at the commit (WAL, `synchronous=NORMAL`: the WAL is
 *   fsynced at checkpoints only); Postgres `synchronous_commit=off` for the store's connections.
 */
export type Durability = "full" | "relaxed";

/** Every {@link Durability}, the default first. */
export const DURABILITIES: readonly Durability[] = ["full", "relaxed"];

/** Options shared by both implementations. */
export interface StoreOptions {
  /** What a resolved write survives (see {@link Durability}). @default "full" */
  durability?: Durability;
  /** Time source in epoch milliseconds (leases, idempotency window, cache, retention). @default Date.now */
  now?: () => number;
  /** How long an idempotency key keeps returning its run. @default 86_400_000 (24 h) */
  idempotencyTtlMs?: number;
}

/**
 * The durability to use, checked.
 * @throws {RangeError} when it is neither "full" nor "relaxed"
 */
export function durabilityOf(options: StoreOptions): Durability {
  const value = options.durability ?? "full";
  if (!DURABILITIES.includes(value)) {
    throw new RangeError(
      `Cannot open run store: durability "${String(value)}" is not "full" or "relaxed"`,
    );
  }
  return value;
}
