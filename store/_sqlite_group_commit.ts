/**
 * The group commit of the SQLite store: every write queued in one turn runs in one
 * transaction, each atomic write under its own savepoint so a failure undoes only that write.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";

/** A write waiting for the end of the turn. */
export interface QueuedWrite {
  body(): unknown;
  /** Several statements: run under a savepoint, so a failure undoes only this write. */
  atomic: boolean;
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
