/**
 * Test helpers of the store layer for any layer's tests (server/, cli/, tests/): a real,
 * throwaway PostgreSQL server. Not part of the runtime API: production code imports mod.ts.
 *
 * @module
 */

export {
  findPostgresBinaries,
  ignoreWithoutPostgres,
  type PostgresServer,
  startPostgresServer,
} from "./_postgres_server.ts";
