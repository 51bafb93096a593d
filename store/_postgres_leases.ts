/**
 * Lease epochs and fenced writes of `PostgresStore`: every claim increments a run's epoch, a
 * write fenced by a lease applies only while that lease is the run's current one, and lease
 * times come from the database server's clock so that replicas' clock skew does not matter.
 *
 * @module
 */

// @ts-types="@types/pg"
import type pg from "pg";
import {
  checkFence,
  checkLeaseArgs,
  decodeRuns,
  RUN_COLUMNS,
  UNFINISHED_STATUSES,
} from "./_run_codec.ts";
import { LeaseLostError } from "./errors.ts";
import type { Lease } from "./run_store.ts";
import type { LeaseOps } from "./_durable_methods.ts";

/**
 * The lease clock: `$n` when the store was given a `now` (tests), else the database server's
 * clock in epoch ms, so replicas with skewed clocks agree on when a lease expires.
 */
export function leaseNow(n: number): string {
  return `COALESCE($${n}::bigint, (extract(epoch from clock_timestamp()) * 1000)::bigint)`;
}

/** What the leases use of their store: queries and the lease clock. */
export interface PostgresLeaseAccess {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>>;
  /** The store's `now` option (tests), or null for the database's clock. */
  leaseNow(): number | null;
}

/** Leases of runs in Postgres (the RunStore methods of the same names). */
export class PostgresLeases implements LeaseOps {
  constructor(private readonly db: PostgresLeaseAccess) {}

  readonly claimLease: LeaseOps["claimLease"] = async (runId, owner, leaseMs, options = {}) => {
    checkLeaseArgs(owner, leaseMs, "claim run");
    const { rows } = await this.db.query<{ lease_epoch: string }>(
      `UPDATE runs SET owner = $2, lease_until = ${leaseNow(4)} + $3::bigint,
         lease_epoch = lease_epoch + 1
       WHERE run_id = $1 AND status = ANY($5::text[])
       AND ($6::boolean OR owner IS NULL OR owner = $2 OR lease_until <= ${leaseNow(4)})
       RETURNING lease_epoch`,
      [
        runId,
        owner,
        Math.ceil(leaseMs),
        this.db.leaseNow(),
        UNFINISHED_STATUSES,
        options.force === true,
      ],
    );
    return rows[0] ? { owner, epoch: Number(rows[0].lease_epoch) } : undefined;
  };

  readonly renewLease: LeaseOps["renewLease"] = async (runId, owner, leaseMs, epoch) => {
    checkLeaseArgs(owner, leaseMs, "renew lease");
    const result = await this.db.query(
      `UPDATE runs SET lease_until = ${leaseNow(5)} + $3::bigint WHERE run_id = $1 AND owner = $2
       AND status = ANY($4::text[]) AND ($6::bigint IS NULL OR lease_epoch = $6)`,
      [runId, owner, Math.ceil(leaseMs), UNFINISHED_STATUSES, this.db.leaseNow(), epoch ?? null],
    );
    return result.rowCount! > 0;
  };

  readonly releaseLease: LeaseOps["releaseLease"] = async (runId, lease) => {
    checkFence(lease);
    const result = await this.db.query(
      `UPDATE runs SET owner = NULL, lease_until = NULL, lease_epoch = lease_epoch + 1
       WHERE run_id = $1 AND owner = $2 AND lease_epoch = $3`,
      [runId, lease.owner, lease.epoch],
    );
    return result.rowCount! > 0;
  };

  readonly listClaimable: LeaseOps["listClaimable"] = async (options = {}) => {
    const { rows } = await this.db.query(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status = ANY($1::text[])
       AND ($2::text IS NULL OR workflow = $2)
       AND (owner IS NULL OR lease_until <= ${leaseNow(3)}) ORDER BY seq`,
      [UNFINISHED_STATUSES, options.workflow ?? null, this.db.leaseNow()],
    );
    return decodeRuns(rows);
  };

  /** Whether the run exists and `fence` (if any) is its lease; see {@link refused}. */
  async exists(runId: string, fence: Lease | undefined): Promise<boolean> {
    const { rows } = await this.db.query<{ owner: string | null; lease_epoch: string }>(
      "SELECT owner, lease_epoch FROM runs WHERE run_id = $1",
      [runId],
    );
    const row = rows[0];
    if (!row) return false;
    if (fence && (row.owner !== fence.owner || Number(row.lease_epoch) !== fence.epoch)) {
      throw new LeaseLostError(runId, fence.owner);
    }
    return true;
  }

  /**
   * After a write that changed nothing: false for an unknown run.
   * @throws {LeaseLostError} when the run exists but `fence` is not its lease
   */
  async refused(runId: string, fence: Lease | undefined): Promise<false> {
    if (fence && await this.exists(runId, undefined)) throw new LeaseLostError(runId, fence.owner);
    return false;
  }
}
