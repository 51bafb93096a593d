/**
 * The group commit of the SQLite store: every write queued in one turn runs in one
 * transaction, each atomic write under its own savepoint so a failure undoes only that write.
 *
 * Which writes wait for an fsync of their own (durability `full`, {@link WriteMode}): the WAL
 * is one sequence, so an fsync covers every commit made before it. Nothing outside the process
 * learns of a write before it is durable: a write's promise settles, and subscribers hear of it,
 * only after an fsync covering it; a read waits until what it sees is durable; the sync
 * `POST /run` answers after the run's final transition (urgent) settled, `POST /runs` answers
 * 202 after `createRun(..).durable()`. A run's intermediate transitions (its start, node
 * transitions, log lines; `RunStore.lazily()` in server/_run_hooks.ts, whose executor does not
 * wait for them) are lazy: committed at the end of their turn like every write (a kill -9 loses
 * none of them), their fsync is the next one anybody needs. A power loss
 * before it loses them, and the nodes that ran meanwhile run again when the run resumes, or
 * (for a sync run whose creation was not durable yet) when the client, which got no answer,
 * retries: at-least-once execution of a node, as with a kill -9 during the node; after a process
 * crash (kill -9, OOM) a completed node is never re-executed (SPEC §3). Writes that others depend on stay
 * urgent: lease claims and renewals, `ctx.step` results, map items, waits and events, cached
 * outputs, idempotency keys of async runs, run ends and parking.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { WalSync } from "./_wal_sync.ts";

/** When a write of durability `full` settles. */
export const WriteMode = {
  /** Once an fsync covers it, started at once: somebody acknowledges it. */
  Urgent: 0,
  /**
   * Committed at the end of the turn; settled once an fsync covers it, started by a later
   * urgent write or a few ms later: an intermediate transition nobody acknowledges before a
   * later write.
   */
  Lazy: 1,
  /** At the commit (the caller waits for durability itself, or for a later write). */
  Committed: 2,
} as const;
export type WriteMode = typeof WriteMode[keyof typeof WriteMode];

/** How a write is applied and settled: `true` is `{ atomic: true }`. */
export interface How {
  /** Several statements: run under a savepoint. */
  atomic: boolean;
  /** @default WriteMode.Lazy inside `SqliteStore.lazily()`, else WriteMode.Urgent */
  mode?: WriteMode;
  /**
   * Changes no run's lease and creates or deletes no run: the lease fence checks made before it
   * in the transaction stay valid (`SqliteLeases.fenced`). @default false
   */
  keepsLeases?: boolean;
}

/** A write whose caller waits for durability by itself. */
export const COMMITTED_ATOMIC: How = { atomic: true, mode: WriteMode.Committed };
const COMMITTED: How = { atomic: false, mode: WriteMode.Committed, keepsLeases: true };
/** A run's transition: one statement (or several: `TRANSITIONS`), no lease changed. */
export const TRANSITION: How = { atomic: false, keepsLeases: true };
export const TRANSITIONS: How = { atomic: true, keepsLeases: true };

/** A write waiting for the end of the turn. */
export interface QueuedWrite {
  body(): unknown;
  /** Several statements: run under a savepoint, so a failure undoes only this write. */
  atomic: boolean;
  mode: WriteMode;
  keepsLeases: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** What one write of a committed group came to. */
export interface WriteOutcome {
  ok: boolean;
  value: unknown;
}

/**
 * Applies `queue` in order in one transaction and commits it. Returns each write's outcome
 * (settled by the caller once the commit is durable), or undefined when the transaction could
 * not begin or commit: then every write was already rejected with that error. `forgetLeases`
 * drops the fence checks cached in the transaction: at its start and before each write that
 * may change a lease (no other process writes meanwhile: `BEGIN IMMEDIATE`).
 */
export function commitGroup(
  sql: (text: string) => StatementSync,
  queue: QueuedWrite[],
  forgetLeases: () => void = () => {},
): WriteOutcome[] | undefined {
  const outcomes: WriteOutcome[] = [];
  try {
    sql("BEGIN IMMEDIATE").run();
  } catch (error) {
    for (const write of queue) write.reject(error);
    return undefined;
  }
  forgetLeases();
  for (const write of queue) {
    if (!write.keepsLeases) forgetLeases();
    if (write.atomic) sql("SAVEPOINT write").run();
    try {
      outcomes.push({ ok: true, value: write.body() });
      if (write.atomic) sql("RELEASE write").run();
    } catch (error) {
      if (write.atomic) {
        sql("ROLLBACK TO write").run();
        sql("RELEASE write").run();
      }
      outcomes.push({ ok: false, value: error });
    }
  }
  try {
    sql("COMMIT").run();
  } catch (error) {
    try {
      sql("ROLLBACK").run();
    } catch {
      // SQLite already rolled the transaction back
    }
    for (const write of queue) write.reject(error);
    return undefined;
  }
  return outcomes;
}

/**
 * Settles the writes of a committed group: at once without `wal` (and the `Committed` ones),
 * else once the fsync covering the commit ended, started at once when one of them is urgent.
 */
export function settleGroup(
  queue: QueuedWrite[],
  outcomes: WriteOutcome[],
  wal: WalSync | undefined,
): void {
  const settle = (late: boolean, syncError?: unknown) => {
    queue.forEach((write, i) => {
      if (late !== (wal !== undefined && write.mode !== WriteMode.Committed)) return;
      const { ok, value } = outcomes[i]!;
      if (syncError !== undefined) write.reject(syncError);
      else if (ok) write.resolve(value);
      else write.reject(value);
    });
  };
  settle(false);
  const now = queue.some((write) => write.mode === WriteMode.Urgent);
  wal?.afterCommit((syncError) => settle(true, syncError), now);
}

/**
 * The writes queued for the next group commit: at the end of the turn (`setImmediate`), or, for
 * urgent writes made while an fsync runs, when it ends (`WalSync`'s `beforeRound` calls
 * `flush()`).
 */
export class GroupCommit {
  #queue: QueuedWrite[] = [];
  #timer: ReturnType<typeof setImmediate> | undefined;
  /** Inside `lazily()`: writes queued now are lazy. */
  #lazy = false;

  constructor(
    private readonly sql: (text: string) => StatementSync,
    private readonly wal: WalSync | undefined,
    private readonly forgetLeases?: () => void,
  ) {}

  /** Queues a write; settles as its {@link WriteMode} says. */
  write<T>(body: () => T, how: boolean | How): Promise<T> {
    const atomic = typeof how === "boolean" ? how : how.atomic;
    const keepsLeases = typeof how !== "boolean" && how.keepsLeases === true;
    const mode = (typeof how === "boolean" ? undefined : how.mode) ??
      (this.#lazy ? WriteMode.Lazy : WriteMode.Urgent);
    return new Promise<T>((resolve, reject) => {
      const settle = { resolve: resolve as (v: unknown) => void, reject };
      this.#queue.push({ body, atomic, mode, keepsLeases, ...settle });
      // Every write but an urgent one made while an fsync runs commits at the end of the turn:
      // a kill -9 never loses a transition past its turn (a node's children may start before
      // its success settles: the commit must not wait). Only the fsync of lazy writes waits
      // (WalSync: for an urgent commit, or LAZY_SYNC_MS). Urgent writes made during an fsync
      // commit together when it ends, unless a lazy write commits them earlier.
      if (!this.wal || mode !== WriteMode.Urgent || !this.wal.busy) {
        this.#timer ??= setImmediate(this.flush);
      }
    });
  }

  /**
   * Resolves once the writes queued so far are committed, at once when none is (see
   * `RunStore.committed`): a no-op write queued behind them, settled at their commit.
   */
  committed(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return this.write(() => undefined, COMMITTED);
  }

  /** Calls `write`, whose writes are lazy (see `RunStore.lazily`). */
  lazily<T>(write: () => T): T {
    this.#lazy = true;
    try {
      return write();
    } finally {
      this.#lazy = false;
    }
  }

  /** Applies the queued writes in order, in one transaction, then settles them. */
  flush = (): void => {
    if (this.#timer !== undefined) clearImmediate(this.#timer);
    this.#timer = undefined;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const failure = this.wal?.failure;
    if (failure) {
      for (const write of queue) write.reject(failure);
      return;
    }
    const outcomes = commitGroup(this.sql, queue, this.forgetLeases);
    if (outcomes !== undefined) settleGroup(queue, outcomes, this.wal);
  };
}
