/**
 * The group commit of the SQLite store: every write queued in one turn runs in one
 * transaction, each atomic write under its own savepoint so a failure undoes only that write.
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
   * Once an fsync covers it, started by a later urgent write or a few ms later: an
   * intermediate transition nobody acknowledges before a later write.
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
  /** @default WriteMode.Urgent */
  mode?: WriteMode;
}

/** A run's intermediate transition (one statement, several). */
export const LAZY: How = { atomic: false, mode: WriteMode.Lazy };
export const LAZY_ATOMIC: How = { atomic: true, mode: WriteMode.Lazy };
/** A write whose caller waits for durability by itself. */
export const COMMITTED_ATOMIC: How = { atomic: true, mode: WriteMode.Committed };

/** A write to queue. */
export function queuedWrite(
  body: () => unknown,
  how: boolean | How,
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
): QueuedWrite {
  if (typeof how === "boolean") {
    return { body, atomic: how, mode: WriteMode.Urgent, resolve, reject };
  }
  return { body, atomic: how.atomic, mode: how.mode ?? WriteMode.Urgent, resolve, reject };
}

/** A write waiting for the end of the turn. */
export interface QueuedWrite {
  body(): unknown;
  /** Several statements: run under a savepoint, so a failure undoes only this write. */
  atomic: boolean;
  mode: WriteMode;
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
 * not begin or commit: then every write was already rejected with that error.
 */
export function commitGroup(
  sql: (text: string) => StatementSync,
  queue: QueuedWrite[],
): WriteOutcome[] | undefined {
  const outcomes: WriteOutcome[] = [];
  try {
    sql("BEGIN IMMEDIATE").run();
  } catch (error) {
    for (const write of queue) write.reject(error);
    return undefined;
  }
  for (const write of queue) {
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
  const urgent = queue.some((write) => write.mode === WriteMode.Urgent);
  wal?.afterCommit((syncError) => settle(true, syncError), urgent);
}
