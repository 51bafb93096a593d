/**
 * Migrates a SQLite run store in a second process, driven by store/sqlite_migration_test.ts:
 * `<db>`: applies the pending migrations, prints "migrated" before their `COMMIT`, then blocks
 * (synchronously, inside the transaction) until the test kills it.
 */

import { DatabaseSync } from "node:sqlite";
import { migrateSqlite } from "../_sqlite_migrations.ts";

const db = new DatabaseSync(Deno.args[0]!);
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA synchronous = NORMAL");
db.exec("PRAGMA foreign_keys = ON");
// A small page cache, so that the migration writes pages to the WAL before its commit.
db.exec("PRAGMA cache_size = 50");
migrateSqlite(db, Date.now(), () => {
  console.log("migrated");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
