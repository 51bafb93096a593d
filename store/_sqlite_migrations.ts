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
}, {
  version: 3,
  sql: `
    CREATE TABLE map_items (
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
      node_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      status TEXT NOT NULL,
      record TEXT NOT NULL,
      PRIMARY KEY (run_id, node_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE step_results (
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
      step_key TEXT NOT NULL,
      name TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (run_id, step_key, name)
    ) WITHOUT ROWID;
    CREATE TABLE run_waits (
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
      node_id TEXT NOT NULL,
      event TEXT,
      due_at INTEGER,
      resolution TEXT,
      PRIMARY KEY (run_id, node_id)
    ) WITHOUT ROWID;
    CREATE INDEX run_waits_due ON run_waits (due_at) WHERE resolution IS NULL AND due_at IS NOT NULL;
  `,
}, {
  // Fewer WAL pages per run: no AUTOINCREMENT (its sqlite_sequence row was a page written by
  // every creation) and no runs_workflow_seq (runs_workflow_status_seq serves those lists, one
  // range per status). `seq` stays monotonic, never reused: createRun assigns
  // max(max(seq), runs_seq_floor) + 1, and deleting the newest run raises the floor.
  // run_nodes rows name their run by `seq` instead of its random UUID: the rows written in one
  // commit share the right edge of the (run, node) index instead of a random page each. `data`
  // over 3500 bytes moves to run_inputs (store/_sqlite_inputs.ts), so that an update of the
  // row no longer rewrites its overflow pages. The table is rebuilt (SQLite cannot drop
  // AUTOINCREMENT in place) with foreign keys off, so dropping the old table cascades to no
  // child row (migrateSqlite, which then checks them).
  version: 4,
  sql: `
    CREATE TABLE runs_seq_floor (seq INTEGER NOT NULL);
    INSERT INTO runs_seq_floor (seq)
      SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'runs'), 0);
    CREATE TABLE runs_v4 (
      seq INTEGER PRIMARY KEY,
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
      log_seq INTEGER NOT NULL DEFAULT 0,
      lease_epoch INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO runs_v4 (seq, run_id, workflow, status, created_at, data, result, error,
      started_at, finished_at, duration_ms, owner, lease_until, log_seq, lease_epoch)
      SELECT seq, run_id, workflow, status, created_at,
        CASE WHEN length(CAST(data AS BLOB)) > 3500 THEN '' ELSE data END, result, error,
        started_at, finished_at, duration_ms, owner, lease_until, log_seq, lease_epoch
      FROM runs ORDER BY seq;
    CREATE TABLE run_inputs (
      seq INTEGER PRIMARY KEY REFERENCES runs (seq) ON DELETE CASCADE,
      data TEXT NOT NULL
    );
    INSERT INTO run_inputs (seq, data)
      SELECT seq, data FROM runs WHERE length(CAST(data AS BLOB)) > 3500 ORDER BY seq;
    DROP TABLE runs;
    ALTER TABLE runs_v4 RENAME TO runs;
    CREATE INDEX runs_status_seq ON runs (status, seq);
    CREATE INDEX runs_workflow_status_seq ON runs (workflow, status, seq);
    CREATE INDEX runs_created_at ON runs (created_at);
    CREATE TABLE run_nodes_v4 (
      run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
      node_id TEXT NOT NULL,
      record TEXT NOT NULL,
      PRIMARY KEY (run_seq, node_id)
    );
    INSERT INTO run_nodes_v4 (rowid, run_seq, node_id, record)
      SELECT n.rowid, r.seq, n.node_id, n.record FROM run_nodes n JOIN runs r USING (run_id)
      ORDER BY n.rowid;
    DROP TABLE run_nodes;
    ALTER TABLE run_nodes_v4 RENAME TO run_nodes;
    CREATE TRIGGER runs_seq_floor AFTER DELETE ON runs
      WHEN old.seq > (SELECT seq FROM runs_seq_floor)
        AND NOT EXISTS (SELECT 1 FROM runs WHERE seq > old.seq)
      BEGIN UPDATE runs_seq_floor SET seq = old.seq; END;
  `,
}];

/**
 * The next run's `seq` (migration 4): above every run's and every deleted newest run's, as
 * AUTOINCREMENT did.
 */
export const NEXT_RUN_SEQ_SQL =
  "(SELECT max(coalesce((SELECT max(seq) FROM runs), 0), (SELECT seq FROM runs_seq_floor)) + 1)";

/**
 * Brings the schema to the newest version inside one `BEGIN IMMEDIATE` transaction, so
 * concurrent openers (other processes) wait for each other instead of applying twice, and a
 * crash (kill -9) leaves the old schema or the new one. `beforeCommit` runs last (tests).
 * @throws {Error} when the file was written by a newer pipedreamer
 */
export function migrateSqlite(
  db: DatabaseSync,
  now: number,
  beforeCommit?: () => void,
): void {
  // Off outside the transaction (SQLite ignores the pragma inside one): a table rebuild drops
  // the old table, which with foreign keys on would delete every child row (ON DELETE CASCADE).
  const foreignKeys = Number(db.prepare("PRAGMA foreign_keys").get()?.foreign_keys ?? 0);
  db.exec("PRAGMA foreign_keys = OFF");
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
    // Rows whose parent is missing (none, unless the file was edited by hand), before and after.
    const orphans = () => db.prepare("PRAGMA foreign_key_check").all().length;
    const upgrade = current > 0 && current < latest;
    const before = upgrade ? orphans() : 0;
    for (const migration of SQLITE_MIGRATIONS.slice(current)) {
      db.exec(migration.sql);
      record.run(migration.version, now);
    }
    const after = upgrade ? orphans() : 0;
    if (after > before) {
      throw new Error(
        `schema migration ${current} → ${latest} would orphan ${after - before} row(s) ` +
          `(PRAGMA foreign_key_check); nothing was changed`,
      );
    }
    beforeCommit?.();
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  } finally {
    if (foreignKeys) db.exec("PRAGMA foreign_keys = ON");
  }
}
