/**
 * An exclusive, crash-safe lock on a data directory: held by one process at a time and
 * released by the operating system when that process dies (also on kill -9), so a server that
 * holds it knows that no other server executes the runs of the directory's SQLite store.
 *
 * It is a SQLite file kept in `locking_mode=EXCLUSIVE` (an fcntl lock underneath): Deno has no
 * non-blocking file lock.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";

/** A held lock. */
export interface ProcessLock {
  /** Releases it; idempotent. */
  release(): void;
}

/**
 * Takes the lock of `dir` (created when missing), or returns undefined at once when another
 * live process holds it.
 *
 * @throws {Error} when the lock file cannot be created
 * @example
 * ```ts
 * import { tryLockDataDir } from "./_process_lock.ts";
 * const lock = await tryLockDataDir(".pipedreamer");
 * lock?.release();
 * ```
 */
export async function tryLockDataDir(dir: string): Promise<ProcessLock | undefined> {
  await Deno.mkdir(dir, { recursive: true });
  const db = new DatabaseSync(join(dir, "server.lock"));
  try {
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); COMMIT");
  } catch (error) {
    db.close();
    if (/locked|busy/i.test(String(error))) return undefined;
    throw error;
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
