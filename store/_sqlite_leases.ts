// node:sqlite is synchronous; the methods stay `async` so that callers get rejections.
// deno-lint-ignore-file require-await

/**
 * Lease epochs and fenced writes of `SqliteStore`: every claim increments a run's epoch, and a
 * write fenced by a lease applies only while that lease is the run's current one.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import { checkFence, checkLeaseArgs, decodeRuns, UNFINISHED_SQL } from "./_run_codec.ts";
import { LeaseLostError } from "./errors.ts";
import { SQLITE_RUN_COLUMNS } from "./_sqlite_inputs.ts";
import type { Lease } from "./run_store.ts";
import type { LeaseOps } from "./_durable_methods.ts";

/** What the leases use of their store: statements, queued writes, the flush and the clock. */
export interface SqliteLeaseAccess {
  sql(text: string): StatementSync;
  write<T>(body: () => T): Promise<T>;
  flush(): void;
  now(): number;
}

/** Leases of runs in SQLite (the RunStore methods of the same names). */
export class SqliteLeases implements LeaseOps {
  /** Owner and epoch of the runs `fenced()` read in the current transaction. */
  #checked = new Map<string, { owner: unknown; epoch: number }>();

  constructor(private readonly db: SqliteLeaseAccess) {}

  /** Drops what `fenced()` read: a new transaction, or a write that may change a lease. */
  readonly forget = (): void => {
    if (this.#checked.size > 0) this.#checked.clear();
  };

  readonly claimLease: LeaseOps["claimLease"] = async (runId, owner, leaseMs, options = {}) => {
    checkLeaseArgs(owner, leaseMs, "claim run");
    const now = this.db.now();
    const force = options.force === true ? 1 : 0;
    return this.db.write(() => {
      const row = this.db.sql(
        `UPDATE runs SET owner = ?1, lease_until = ?2, lease_epoch = lease_epoch + 1
         WHERE run_id = ?3 AND status IN (${UNFINISHED_SQL})
         AND (?5 = 1 OR owner IS NULL OR owner = ?1 OR lease_until <= ?4) RETURNING lease_epoch`,
      ).get(owner, now + leaseMs, runId, now, force);
      return row ? { owner, epoch: Number(row.lease_epoch) } : undefined;
    });
  };

  readonly renewLease: LeaseOps["renewLease"] = async (runId, owner, leaseMs, epoch) => {
    checkLeaseArgs(owner, leaseMs, "renew lease");
    const until = this.db.now() + leaseMs;
    return this.db.write(() =>
      this.db.sql(
        `UPDATE runs SET lease_until = ?1 WHERE run_id = ?2 AND owner = ?3
         AND (?4 IS NULL OR lease_epoch = ?4) AND status IN (${UNFINISHED_SQL})`,
      ).run(until, runId, owner, epoch ?? null).changes > 0
    );
  };

  readonly releaseLease: LeaseOps["releaseLease"] = async (runId, lease) => {
    checkFence(lease);
    return this.db.write(() =>
      this.db.sql(
        `UPDATE runs SET owner = NULL, lease_until = NULL, lease_epoch = lease_epoch + 1
         WHERE run_id = ? AND owner = ? AND lease_epoch = ?`,
      ).run(runId, lease.owner, lease.epoch).changes > 0
    );
  };

  readonly listClaimable: LeaseOps["listClaimable"] = async (options = {}) => {
    this.db.flush();
    const rows = this.db.sql(
      `SELECT ${SQLITE_RUN_COLUMNS} FROM runs WHERE status IN (${UNFINISHED_SQL})
       AND (?1 IS NULL OR workflow = ?1) AND (owner IS NULL OR lease_until <= ?2) ORDER BY seq`,
    ).all(options.workflow ?? null, this.db.now());
    return decodeRuns(rows);
  };

  /**
   * Inside a write: true when the run exists and `fence` (if any) is its current lease. Reads a
   * run's lease once per transaction, until a write that may change it (`forget`).
   * @throws {LeaseLostError} when the run exists under another lease
   */
  fenced(runId: string, fence: Lease | undefined): boolean {
    let lease = this.#checked.get(runId);
    if (lease === undefined) {
      const row = this.db.sql("SELECT owner, lease_epoch FROM runs WHERE run_id = ?").get(runId);
      if (!row) return false;
      lease = { owner: row.owner, epoch: Number(row.lease_epoch) };
      this.#checked.set(runId, lease);
    }
    if (fence !== undefined && (lease.owner !== fence.owner || lease.epoch !== fence.epoch)) {
      throw new LeaseLostError(runId, fence.owner);
    }
    return true;
  }
}
