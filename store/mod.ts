/**
 * The durable run store: run records, node transitions, logs, the node output cache, retention
 * and small engine state, in SQLite (embedded default) or Postgres (several replicas). Every
 * other layer imports the store from here; `openStore()` is the one default wiring.
 *
 * @example
 * ```ts
 * import { openStore } from "./mod.ts";
 * const store = await openStore(Deno.env.get("STORE_URL"), { dataDir: ".pipedreamer" });
 * const page = await store.listRuns({ status: "failed", limit: 20 });
 * console.log(page.runs.map((run) => run.runId));
 * await store.close();
 * ```
 *
 * @module
 */

export type {
  ClaimOptions,
  CreateRunOptions,
  CreateRunResult,
  Durability,
  GetLogsOptions,
  Lease,
  ListRunsOptions,
  ListUnfinishedOptions,
  PruneOptions,
  RunPage,
  RunStore,
  RunSummary,
  RunUpdate,
  StoredLogLine,
  StoreOptions,
} from "./run_store.ts";
export { LeaseLostError, UnserializableValueError } from "./errors.ts";
export { DURABILITIES } from "./run_store.ts";
export { openStore, type OpenStoreOptions } from "./open_store.ts";
export { SqliteStore } from "./sqlite_store.ts";
export { PostgresStore, type PostgresStoreOptions } from "./postgres_store.ts";
