/**
 * Versioned Postgres schema. Append a migration to change it; never edit an applied one.
 *
 * @module
 */

// @ts-types="@types/pg"
import type pg from "pg";

/** Key of the advisory lock that serialises concurrent migrators (any replica may open first). */
const MIGRATION_LOCK = 7_141_986_218_201_309n;

/** Schema migrations, applied in order; `version` is 1-based and contiguous. */
export const POSTGRES_MIGRATIONS: readonly { version: number; sql: string }[] = [{
  version: 1,
  sql: `
    CREATE TABLE runs (
      seq BIGSERIAL PRIMARY KEY,
      run_id TEXT NOT NULL UNIQUE,
      workflow TEXT NOT NULL,
      status TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      data TEXT NOT NULL,
      result TEXT,
      error TEXT,
      started_at TEXT,
      finished_at TEXT,
      duration_ms DOUBLE PRECISION,
      owner TEXT,
      lease_until BIGINT,
      log_seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_status_seq ON runs (status, seq);
    CREATE INDEX runs_workflow_seq ON runs (workflow, seq);
    CREATE INDEX runs_workflow_status_seq ON runs (workflow, status, seq);
    CREATE INDEX runs_created_at ON runs (created_at);
    CREATE TABLE run_nodes (
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
      node_id TEXT NOT NULL,
      pos BIGSERIAL NOT NULL,
      record TEXT NOT NULL,
      PRIMARY KEY (run_id, node_id)
    );
    CREATE TABLE run_logs (
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
      seq BIGINT NOT NULL,
      node TEXT,
      line TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE idempotency_keys (
      workflow TEXT NOT NULL,
      key TEXT NOT NULL,
      run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
      expires_at BIGINT NOT NULL,
      PRIMARY KEY (workflow, key)
    );
    CREATE INDEX idempotency_keys_run_id ON idempotency_keys (run_id);
    CREATE TABLE node_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at BIGINT NOT NULL);
    CREATE INDEX node_cache_expires_at ON node_cache (expires_at);
    CREATE TABLE engine_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
}, {
  // Lease fencing: every claim increments the epoch; fenced writes carry owner and epoch.
  version: 2,
  sql: `ALTER TABLE runs ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;`,
}];

/**
 * Brings the schema to the newest version in one transaction holding an advisory lock, so
 * replicas starting together apply each migration exactly once.
 * @throws {Error} when the database was migrated by a newer pipedreamer
 */
export async function migratePostgres(client: pg.ClientBase, now: number): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
    );
    const { rows } = await client.query<{ v: number | null }>(
      "SELECT max(version) AS v FROM schema_version",
    );
    const current = rows[0]?.v ?? 0;
    const latest = POSTGRES_MIGRATIONS.length;
    if (current > latest) {
      throw new Error(
        `schema version ${current} is newer than this pipedreamer supports (${latest}); upgrade pipedreamer`,
      );
    }
    for (const migration of POSTGRES_MIGRATIONS.slice(current)) {
      await client.query(migration.sql);
      await client.query("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)", [
        migration.version,
        now,
      ]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}
