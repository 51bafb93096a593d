/**
 * Versioned SQLite schema. Append a migration to change it; never edit an applied one.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/** Schema migrations, applied in order; `version` is 1-based and contiguous. */
export const SQLITE_MIGRATIONS: readonly { version: number; sql: string }[] = [{
  version: 1,
  sql: `
    CREATE TABLE runs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL UNIQUE,
      workflow TEXT NOT NULL,
      status TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      data TEXT NOT NULL,
      result TEXT,
      error TEXT,
      started_at TEXT,
      finished_at TEXT,
      duration_ms REAL,
      owner TEXT,
      lease_until INTEGER,
      log_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_status_seq ON runs (status, seq);
    CREATE INDEX runs_workflow_seq ON runs (workflow, seq);
    CREATE INDEX runs_workflow_status_seq ON runs (workflow, status, seq);
    CREATE INDEX runs_created_at ON runs (created_at);
    CREATE TABLE run_nodes (
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
      node_id TEXT NOT NULL,
      record TEXT NOT NULL,
      PRIMARY KEY (run_id, node_id)
    );
    CREATE TABLE run_logs (
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      node TEXT,
      line TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE idempotency_keys (
      workflow TEXT NOT NULL,
      key TEXT NOT NULL,
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (workflow, key)
    );
    CREATE INDEX idempotency_keys_run_id ON idempotency_keys (run_id);
    CREATE TABLE node_cache (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX node_cache_expires_at ON node_cache (expires_at);
    CREATE TABLE engine_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
}, {
  // Lease fencing: every claim increments the epoch; fenced writes carry owner and epoch.
  version: 2,
  sql: `ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;`,
}];

/**
 * Brings the schema to the newest version inside one `BEGIN IMMEDIATE` transaction, so
 * concurrent openers (other processes) wait for each other instead of applying twice.
 * @throws {Error} when the file was written by a newer pipedreamer
 */
export function migrateSqlite(db: DatabaseSync, now: number): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    );
    const row = db.prepare("SELECT max(version) AS v FROM schema_version").get();
    const current = Number(row?.v ?? 0);
    const latest = SQLITE_MIGRATIONS.length;
    if (current > latest) {
      throw new Error(
        `schema version ${current} is newer than this pipedreamer supports (${latest}); upgrade pipedreamer`,
      );
    }
    const record = db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
    for (const migration of SQLITE_MIGRATIONS.slice(current)) {
      db.exec(migration.sql);
      record.run(migration.version, now);
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
