/**
 * The one default wiring of the run store: a `--store` URL picks the implementation.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { PostgresStore } from "./postgres_store.ts";
import type { RunStore, StoreOptions } from "./run_store.ts";
import { SqliteStore } from "./sqlite_store.ts";

/** Options of {@link openStore}. */
export interface OpenStoreOptions extends StoreOptions {
  /** Directory of the default SQLite file `runs.db` (created when missing). @default "./.pipedreamer" */
  dataDir?: string;
}

/**
 * Opens the run store named by `url`:
 * - undefined or `sqlite:` → SQLite at `<dataDir>/runs.db` (directories are created);
 * - `sqlite:<path>` (also `sqlite://<path>`, `sqlite:///abs/path`, `sqlite::memory:`) → that file;
 * - `postgres://…` or `postgresql://…` → Postgres.
 *
 * @throws {TypeError} when the URL names no supported store
 * @throws {Error} when the database cannot be opened (the cause is attached)
 * @example
 * ```ts
 * import { openStore } from "./open_store.ts";
 * const local = await openStore(undefined, { dataDir: ".pipedreamer" });
 * await local.close();
 * ```
 */
export async function openStore(
  url: string | undefined,
  options: OpenStoreOptions = {},
): Promise<RunStore> {
  const { dataDir = "./.pipedreamer", ...storeOptions } = options;
  if (url === undefined || url.startsWith("sqlite:")) {
    let path = url?.slice("sqlite:".length).replace(/^\/\//, "") || join(dataDir, "runs.db");
    if (path !== ":memory:") {
      path = resolve(path);
      await Deno.mkdir(dirname(path), { recursive: true });
    }
    return await SqliteStore.open(path, storeOptions);
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    if (!URL.canParse(url)) {
      throw new TypeError(
        "Cannot open run store: the Postgres URL is malformed; use postgres://user:password@host:5432/database",
      );
    }
    return await PostgresStore.open(url, storeOptions);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new TypeError(
    `Cannot open run store: ${
      scheme ? `unsupported scheme "${scheme}:"` : "the value is not a URL"
    }; use sqlite:<path> or postgres://user:password@host:5432/database`,
  );
}
