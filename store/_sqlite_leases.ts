// node:sqlite is synchronous; the methods stay `async` so that callers get rejections.
// deno-lint-ignore-file require-await

/**
 * Lease epochs and fenced writes of `SqliteStore`: every claim increments a run's epoch, and a
 * write fenced by a lease applies only while that lease is the run's current one.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import {
  checkFence,
  checkPositiveMs,
  decodeRun,
  requireId,
  RUN_COLUMNS,
  type RunRow,
  UNFINISHED_STATUSES,
} from "./_run_codec.ts";
import { LeaseLostError } from "./errors.ts";
import type { ClaimOptions, Lease, ListUnfinishedOptions, RunSummary } from "./run_store.ts";

const UNFINISHED = UNFINISHED_STATUSES.map((s) => `'${s}'`).join(", ");

/** What the leases use of their store: statements, queued writes, the flush and the clock. */
export interface SqliteLeaseAccess {
  sql(text: string): StatementSync;
  write<T>(body: () => T): Promise<T>;
  flush(): void;
  now(): number;
}

/** Leases of runs in SQLite (the RunStore methods of the same names). */
export class SqliteLeases {
  constructor(private readonly db: SqliteLeaseAccess) {}

  async claimLease(
    runId: string,
    owner: string,
    leaseMs: number,
    options: ClaimOptions = {},
  ): Promise<Lease | undefined> {
    requireId(owner, "owner", "claim run");
    checkPositiveMs(leaseMs, "leaseMs", "claim run");
    const now = this.db.now();
    const force = options.force === true ? 1 : 0;
    return this.db.write(() => {
      const row = this.db.sql(
        `UPDATE runs SET owner = ?1, lease_until = ?2, lease_epoch = lease_epoch + 1
         WHERE run_id = ?3 AND status IN (${UNFINISHED})
         AND (?5 = 1 OR owner IS NULL OR owner = ?1 OR lease_until <= ?4) RETURNING lease_epoch`,
      ).get(owner, now + leaseMs, runId, now, force);
      return row ? { owner, epoch: Number(row.lease_epoch) } : undefined;
    });
  }

  async renewLease(
    runId: string,
    owner: string,
    leaseMs: number,
    epoch?: number,
  ): Promise<boolean> {
    requireId(owner, "owner", "renew lease");
    checkPositiveMs(leaseMs, "leaseMs", "renew lease");
    const until = this.db.now() + leaseMs;
    return this.db.write(() =>
      this.db.sql(
        `UPDATE runs SET lease_until = ?1 WHERE run_id = ?2 AND owner = ?3
         AND (?4 IS NULL OR lease_epoch = ?4) AND status IN (${UNFINISHED})`,
      ).run(until, runId, owner, epoch ?? null).changes > 0
    );
  }

  async releaseLease(runId: string, lease: Lease): Promise<boolean> {
    checkFence(lease);
    return this.db.write(() =>
      this.db.sql(
        `UPDATE runs SET owner = NULL, lease_until = NULL, lease_epoch = lease_epoch + 1
         WHERE run_id = ? AND owner = ? AND lease_epoch = ?`,
      ).run(runId, lease.owner, lease.epoch).changes > 0
    );
  }

  async listClaimable(options: ListUnfinishedOptions = {}): Promise<RunSummary[]> {
    this.db.flush();
    const rows = this.db.sql(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status IN (${UNFINISHED})
       AND (?1 IS NULL OR workflow = ?1) AND (owner IS NULL OR lease_until <= ?2) ORDER BY seq`,
    ).all(options.workflow ?? null, this.db.now());
    return rows.map((row) => decodeRun(row as unknown as RunRow));
  }

  /**
   * Inside a write: true when the run exists and `fence` (if any) is its current lease.
   * @throws {LeaseLostError} when the run exists under another lease
   */
  fenced(runId: string, fence: Lease | undefined): boolean {
    if (fence === undefined) {
      return this.db.sql("SELECT 1 FROM runs WHERE run_id = ?").get(runId) !== undefined;
    }
    const row = this.db.sql("SELECT owner, lease_epoch FROM runs WHERE run_id = ?").get(runId);
    if (!row) return false;
    if (row.owner !== fence.owner || Number(row.lease_epoch) !== fence.epoch) {
      throw new LeaseLostError(runId, fence.owner);
    }
    return true;
  }
}
