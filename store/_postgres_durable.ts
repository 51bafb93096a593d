/**
 * The durable state of `PostgresStore` (SPEC §9–10): map items, step results and waits, over
 * the store's pool. Wait resolution is one statement, so replicas never both win it.
 *
 * @module
 */

// @ts-types="@types/pg"
import type pg from "pg";
import { check, decodeWait, mapItemsOf, WAIT_COLUMNS, type WaitRow } from "./_durable_codec.ts";
import type { PostgresLeases } from "./_postgres_leases.ts";
import type { DurableOps } from "./_durable_methods.ts";
import type { Lease } from "./run_store.ts";

/** What the durable part uses of its store: queries and per-key serialised writes. */
export interface PostgresAccess {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>>;
  serial<T>(key: string, write: () => Promise<T>): Promise<T>;
  /** The store's leases (fence checks after a refused write). */
  leases(): PostgresLeases;
}

/**
 * `EXISTS` condition: run `$1` exists and, when `$n` (owner) is not null, `$n` / `$n+1` are its
 * current lease (owner, epoch). The check and the write are one statement.
 */
function fencedRun(n: number): string {
  return `EXISTS (SELECT 1 FROM runs WHERE run_id = $1 AND ($${n}::text IS NULL OR
    (owner = $${n} AND lease_epoch = $${n + 1}::bigint)))`;
}

/** The owner and epoch parameters of {@link fencedRun}. */
function fenceArgs(fence: Lease | undefined): [string | null, number | null] {
  return [fence?.owner ?? null, fence?.epoch ?? null];
}

/**
 * Map items, step results and waits in Postgres. Writes given a `fence` apply only while that
 * lease is the run's current one (checked in the statement that writes).
 */
export class PostgresDurable implements DurableOps {
  constructor(private readonly db: PostgresAccess) {}

  readonly putMapItem: DurableOps["putMapItem"] = async (runId, nodeId, item, fence) => {
    const json = check.mapItem(nodeId, item, fence);
    const fenced = fenceArgs(fence);
    // Serialised per run and node: an element's later record must not be overtaken.
    return await this.db.serial(`${runId}\0${nodeId}\0${item.index}`, async () => {
      const result = await this.db.query(
        `INSERT INTO map_items (run_id, node_id, idx, status, record)
         SELECT $1, $2, $3, $4, $5 WHERE ${fencedRun(6)}
         ON CONFLICT (run_id, node_id, idx) DO UPDATE SET status = EXCLUDED.status,
           record = EXCLUDED.record`,
        [runId, nodeId, item.index, item.status, json, ...fenced],
        "put-map-item",
      );
      return result.rowCount! > 0 || await this.db.leases().refused(runId, fence);
    });
  };

  readonly listMapItems: DurableOps["listMapItems"] = async (runId, nodeId, options = {}) => {
    const { from, limit } = check.page(options);
    const { rows } = await this.db.query<{ idx: string; record: string }>(
      `SELECT idx, record FROM map_items WHERE run_id = $1 AND node_id = $2 AND idx >= $3
       AND ($4::text[] IS NULL OR status = ANY($4::text[])) ORDER BY idx LIMIT $5`,
      [runId, nodeId, from, options.status?.length ? options.status : null, limit + 1],
    );
    return mapItemsOf(rows, limit);
  };

  readonly getStep: DurableOps["getStep"] = async (runId, key, name) => {
    const { rows } = await this.db.query<{ value: string }>(
      "SELECT value FROM step_results WHERE run_id = $1 AND step_key = $2 AND name = $3",
      [runId, ...check.stepKey(key, name)],
    );
    return rows[0] ? { value: JSON.parse(rows[0].value) } : undefined;
  };

  readonly putStep: DurableOps["putStep"] = async (runId, key, name, value, fence) => {
    const json = check.step(key, name, value, fence);
    const result = await this.db.query(
      `INSERT INTO step_results (run_id, step_key, name, value)
       SELECT $1, $2, $3, $4 WHERE ${fencedRun(5)}
       ON CONFLICT DO NOTHING`,
      [runId, key, name, json, ...fenceArgs(fence)],
    );
    // Nothing inserted: stored before (the first writer wins), or refused by the fence.
    if (result.rowCount === 0 && fence) await this.db.leases().exists(runId, fence);
    return (await this.getStep(runId, key, name)) ?? { value };
  };

  readonly putWait: DurableOps["putWait"] = async (runId, nodeId, wait, fence) => {
    check.wait(nodeId, wait, fence);
    const result = await this.db.query(
      `INSERT INTO run_waits (run_id, node_id, event, due_at)
       SELECT $1, $2, $3, $4 WHERE ${fencedRun(5)}
       ON CONFLICT DO NOTHING`,
      [runId, nodeId, wait.event ?? null, wait.dueAt ?? null, ...fenceArgs(fence)],
    );
    if (result.rowCount === 0 && fence) await this.db.leases().exists(runId, fence);
    const { rows } = await this.db.query<WaitRow>(
      `SELECT ${WAIT_COLUMNS} FROM run_waits WHERE run_id = $1 AND node_id = $2`,
      [runId, nodeId],
    );
    return rows[0] && decodeWait(rows[0]);
  };

  readonly listWaits: DurableOps["listWaits"] = async (runId) => {
    const { rows } = await this.db.query<WaitRow>(
      `SELECT ${WAIT_COLUMNS} FROM run_waits WHERE run_id = $1 ORDER BY node_id COLLATE "C"`,
      [runId],
    );
    return rows.map(decodeWait);
  };

  readonly listDueWaits: DurableOps["listDueWaits"] = async (now, limit = 100) => {
    const { rows } = await this.db.query<WaitRow>(
      `SELECT ${WAIT_COLUMNS} FROM run_waits WHERE resolution IS NULL AND due_at IS NOT NULL
       AND due_at <= $1 ORDER BY due_at LIMIT $2`,
      [now, limit],
    );
    return rows.map(decodeWait);
  };

  readonly resolveWait: DurableOps["resolveWait"] = async (runId, nodeId, resolution, fence) => {
    const json = check.resolution(resolution, fence);
    // One statement: the CAS on the wait and the re-queue of a parked run commit together.
    const { rows } = await this.db.query<{ won: boolean }>(
      `WITH w AS (UPDATE run_waits SET resolution = $3 WHERE run_id = $1 AND node_id = $2
         AND resolution IS NULL AND ${fencedRun(4)} RETURNING run_id),
       r AS (UPDATE runs SET status = 'queued' WHERE run_id IN (SELECT run_id FROM w)
         AND status = 'waiting' RETURNING run_id)
       SELECT EXISTS (SELECT 1 FROM w) AS won, (SELECT count(*) FROM r) AS requeued`,
      [runId, nodeId, json, ...fenceArgs(fence)],
    );
    if (rows[0]?.won === true) return true;
    if (fence) await this.db.leases().exists(runId, fence);
    return false;
  };

  readonly requeueParked: DurableOps["requeueParked"] = async (runId) => {
    const result = await this.db.query(
      "UPDATE runs SET status = 'queued' WHERE run_id = $1 AND status = 'waiting'",
      [runId],
    );
    return result.rowCount! > 0;
  };
}
