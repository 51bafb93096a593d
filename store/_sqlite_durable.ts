// node:sqlite is synchronous; the methods stay `async` so that callers get rejections.
// deno-lint-ignore-file require-await

/**
 * The durable state of `SqliteStore` (SPEC §9–10): map items, step results and waits, on the
 * store's connection and group commit.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import { check, decodeWait, mapItemsOf, WAIT_COLUMNS, type WaitRow } from "./_durable_codec.ts";
import type { SqliteLeases } from "./_sqlite_leases.ts";
import type { DurableOps } from "./_durable_methods.ts";

/** What the durable part uses of its store: statements, queued writes and the flush. */
export interface SqliteAccess {
  sql(text: string): StatementSync;
  write<T>(body: () => T, atomic?: boolean): Promise<T>;
  flush(): void;
}

/**
 * Map items, step results and waits in SQLite. Writes given a `fence` apply only while that
 * lease is the run's current one (checked in the same write as the change).
 */
export class SqliteDurable implements DurableOps {
  constructor(private readonly db: SqliteAccess, private readonly leases: SqliteLeases) {}

  readonly putMapItem: DurableOps["putMapItem"] = async (runId, nodeId, item, fence) => {
    const json = check.mapItem(nodeId, item, fence);
    return this.db.write(() =>
      this.leases.fenced(runId, fence) && this.db.sql(
          `INSERT INTO map_items (run_id, node_id, idx, status, record)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)
         ON CONFLICT (run_id, node_id, idx) DO UPDATE SET status = excluded.status,
           record = excluded.record`,
        ).run(runId, nodeId, item.index, item.status, json).changes > 0
    );
  };

  readonly listMapItems: DurableOps["listMapItems"] = async (runId, nodeId, options = {}) => {
    const { from, limit } = check.page(options);
    const statuses = options.status;
    this.db.flush();
    const filter = statuses?.length ? ` AND status IN (${statuses.map(() => "?").join(", ")})` : "";
    const rows = this.db.sql(
      `SELECT idx, record FROM map_items WHERE run_id = ? AND node_id = ? AND idx >= ?${filter}
       ORDER BY idx LIMIT ?`,
    ).all(runId, nodeId, from, ...(statuses ?? []), limit + 1);
    return mapItemsOf(rows, limit);
  };

  readonly getStep: DurableOps["getStep"] = async (runId, key, name) => {
    this.db.flush();
    const row = this.db.sql(
      "SELECT value FROM step_results WHERE run_id = ? AND step_key = ? AND name = ?",
    ).get(runId, ...check.stepKey(key, name));
    return row ? { value: JSON.parse(row.value as string) } : undefined;
  };

  readonly putStep: DurableOps["putStep"] = async (runId, key, name, value, fence) => {
    const json = check.step(key, name, value, fence);
    return this.db.write(() => {
      this.leases.fenced(runId, fence);
      this.db.sql(
        `INSERT INTO step_results (run_id, step_key, name, value)
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)
         ON CONFLICT DO NOTHING`,
      ).run(runId, key, name, json);
      const row = this.db.sql(
        "SELECT value FROM step_results WHERE run_id = ? AND step_key = ? AND name = ?",
      ).get(runId, key, name);
      return { value: row ? JSON.parse(row.value as string) : value };
    }, true);
  };

  readonly putWait: DurableOps["putWait"] = async (runId, nodeId, wait, fence) => {
    check.wait(nodeId, wait, fence);
    return this.db.write(() => {
      this.leases.fenced(runId, fence);
      this.db.sql(
        `INSERT INTO run_waits (run_id, node_id, event, due_at)
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)
         ON CONFLICT DO NOTHING`,
      ).run(runId, nodeId, wait.event ?? null, wait.dueAt ?? null);
      const row = this.db.sql(
        `SELECT ${WAIT_COLUMNS} FROM run_waits WHERE run_id = ? AND node_id = ?`,
      ).get(runId, nodeId);
      return row ? decodeWait(row as unknown as WaitRow) : undefined;
    }, true);
  };

  readonly listWaits: DurableOps["listWaits"] = async (runId) => {
    this.db.flush();
    return this.db.sql(`SELECT ${WAIT_COLUMNS} FROM run_waits WHERE run_id = ? ORDER BY node_id`)
      .all(runId).map((row) => decodeWait(row as unknown as WaitRow));
  };

  readonly listDueWaits: DurableOps["listDueWaits"] = async (now, limit = 100) => {
    this.db.flush();
    return this.db.sql(
      `SELECT ${WAIT_COLUMNS} FROM run_waits WHERE resolution IS NULL AND due_at IS NOT NULL
       AND due_at <= ? ORDER BY due_at LIMIT ?`,
    ).all(now, limit).map((row) => decodeWait(row as unknown as WaitRow));
  };

  readonly resolveWait: DurableOps["resolveWait"] = async (runId, nodeId, resolution, fence) => {
    const json = check.resolution(resolution, fence);
    return this.db.write(() => {
      if (fence && !this.leases.fenced(runId, fence)) return false;
      const won = this.db.sql(
        `UPDATE run_waits SET resolution = ? WHERE run_id = ? AND node_id = ?
         AND resolution IS NULL`,
      ).run(json, runId, nodeId).changes > 0;
      if (won) {
        this.db.sql("UPDATE runs SET status = 'queued' WHERE run_id = ? AND status = 'waiting'")
          .run(runId);
      }
      return won;
    }, true);
  };

  readonly requeueParked: DurableOps["requeueParked"] = async (runId) => {
    return this.db.write(() =>
      this.db.sql("UPDATE runs SET status = 'queued' WHERE run_id = ? AND status = 'waiting'")
        .run(runId).changes > 0
    );
  };
}
