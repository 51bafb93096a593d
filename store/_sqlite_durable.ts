// node:sqlite is synchronous; the methods stay `async` so that callers get rejections.
// deno-lint-ignore-file require-await

/**
 * The durable state of `SqliteStore` (SPEC §9–10): map items, step results and waits, on the
 * store's connection and group commit.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type {
  ListMapItemsOptions,
  MapItemPage,
  MapItemRecord,
  WaitRecord,
  WaitResolution,
} from "../engine/mod.ts";
import {
  checkFence,
  checkWait,
  decodeWait,
  encodeMapItem,
  encodeResolution,
  mapItemPage,
  requireId,
  stateJson,
  WAIT_COLUMNS,
  type WaitRow,
} from "./_run_codec.ts";
import type { SqliteLeases } from "./_sqlite_leases.ts";
import type { Lease } from "./run_store.ts";

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
export class SqliteDurable {
  constructor(private readonly db: SqliteAccess, private readonly leases: SqliteLeases) {}

  async putMapItem(
    runId: string,
    nodeId: string,
    item: MapItemRecord,
    fence?: Lease,
  ): Promise<boolean> {
    requireId(nodeId, "nodeId", "store map item");
    const json = encodeMapItem(item, "store map item");
    checkFence(fence);
    return this.db.write(() =>
      this.leases.fenced(runId, fence) && this.db.sql(
          `INSERT INTO map_items (run_id, node_id, idx, status, record)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)
         ON CONFLICT (run_id, node_id, idx) DO UPDATE SET status = excluded.status,
           record = excluded.record`,
        ).run(runId, nodeId, item.index, item.status, json).changes > 0
    );
  }

  async listMapItems(
    runId: string,
    nodeId: string,
    options: ListMapItemsOptions = {},
  ): Promise<MapItemPage> {
    const { from, limit } = mapItemPage(options);
    const statuses = options.status;
    this.db.flush();
    const filter = statuses?.length ? ` AND status IN (${statuses.map(() => "?").join(", ")})` : "";
    const rows = this.db.sql(
      `SELECT idx, record FROM map_items WHERE run_id = ? AND node_id = ? AND idx >= ?${filter}
       ORDER BY idx LIMIT ?`,
    ).all(runId, nodeId, from, ...(statuses ?? []), limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => JSON.parse(r.record as string)),
      nextCursor: rows.length > limit ? String(Number(rows[limit]!.idx)) : undefined,
    };
  }

  async getStep(runId: string, key: string, name: string): Promise<{ value: unknown } | undefined> {
    this.db.flush();
    const row = this.db.sql(
      "SELECT value FROM step_results WHERE run_id = ? AND step_key = ? AND name = ?",
    ).get(runId, requireId(key, "key", "read step"), requireId(name, "name", "read step"));
    return row ? { value: JSON.parse(row.value as string) } : undefined;
  }

  async putStep(runId: string, key: string, name: string, value: unknown, fence?: Lease) {
    requireId(key, "key", "store step");
    requireId(name, "name", "store step");
    const json = stateJson(value, "store step");
    checkFence(fence);
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
  }

  async putWait(
    runId: string,
    nodeId: string,
    wait: { event?: string; dueAt?: number },
    fence?: Lease,
  ): Promise<WaitRecord | undefined> {
    requireId(nodeId, "nodeId", "register wait");
    checkWait(wait);
    checkFence(fence);
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
  }

  async listWaits(runId: string): Promise<WaitRecord[]> {
    this.db.flush();
    return this.db.sql(`SELECT ${WAIT_COLUMNS} FROM run_waits WHERE run_id = ? ORDER BY node_id`)
      .all(runId).map((row) => decodeWait(row as unknown as WaitRow));
  }

  async listDueWaits(now: number, limit = 100): Promise<WaitRecord[]> {
    this.db.flush();
    return this.db.sql(
      `SELECT ${WAIT_COLUMNS} FROM run_waits WHERE resolution IS NULL AND due_at IS NOT NULL
       AND due_at <= ? ORDER BY due_at LIMIT ?`,
    ).all(now, limit).map((row) => decodeWait(row as unknown as WaitRow));
  }

  async resolveWait(
    runId: string,
    nodeId: string,
    resolution: WaitResolution,
    fence?: Lease,
  ): Promise<boolean> {
    const json = encodeResolution(resolution);
    checkFence(fence);
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
  }

  async requeueParked(runId: string): Promise<boolean> {
    return this.db.write(() =>
      this.db.sql("UPDATE runs SET status = 'queued' WHERE run_id = ? AND status = 'waiting'")
        .run(runId).changes > 0
    );
  }
}
