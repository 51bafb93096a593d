/**
 * An exclusive, crash-safe lock file: held by one process at a time and released by the
 * operating system when that process dies (also on kill -9), so a server that holds the lock
 * of a SQLite store knows that no other server executes that store's runs.
 *
 * It is a SQLite file kept in `locking_mode=EXCLUSIVE` (an fcntl lock underneath): Deno has no
 * non-blocking file lock.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";

/** A held lock. */
export interface ProcessLock {
  /** Releases it; idempotent. */
  release(): void;
}

/**
 * Takes the lock file `path` (created when missing, its directory too), or returns undefined at
 * once when another live process holds it.
 *
 * @throws {Error} when the lock file cannot be created
 * @example
 * ```ts
 * import { tryLockFile } from "./_process_lock.ts";
 * const lock = await tryLockFile(".pipedreamer/runs.db.lock");
 * lock?.release();
 * ```
 */
export async function tryLockFile(path: string): Promise<ProcessLock | undefined> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
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
