import { strict as assert } from "node:assert";
// @ts-types="@types/pg"
import pg from "pg";
import { testRunStore } from "./_common_suite.ts";
import { POSTGRES_MIGRATIONS } from "./_postgres_migrations.ts";
import { PostgresStore } from "./postgres_store.ts";
import { ignoreWithoutPostgres, type PostgresServer, startPostgresServer } from "../testing/mod.ts";

const ignore = ignoreWithoutPostgres();

testRunStore("PostgresStore", async () => {
  const server = await startPostgresServer();
  return {
    async open(options) {
      const url = await server.createDatabase();
      return {
        store: await PostgresStore.open(url, options),
        openAgain: () => PostgresStore.open(url, options),
      };
    },
    close: () => server.stop(),
  };
}, { ignore });

/** Runs `fn` against a fresh database of a throwaway server. */
async function withDatabase(
  fn: (url: string, server: PostgresServer) => Promise<void>,
): Promise<void> {
  await using server = await startPostgresServer();
  await fn(await server.createDatabase(), server);
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

Deno.test({
  name: "`PostgresStore.open()` by four replicas at once applies each migration exactly once",
  ignore,
  async fn() {
    await withDatabase(async (url) => {
      const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(url)));
      try {
        const rows = await sql<{ version: number }>(url, "SELECT version FROM schema_version");
        assert.deepStrictEqual(
          rows.map((r) => r.version),
          POSTGRES_MIGRATIONS.map((m) => m.version),
        );
        assert.deepStrictEqual(await stores[3]!.listRuns(), { runs: [], nextCursor: undefined });
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  },
});

Deno.test({
  name: "`PostgresStore.open()` refuses a database migrated by a newer schema version",
  ignore,
  async fn() {
    await withDatabase(async (url, server) => {
      await (await PostgresStore.open(url)).close();
      await sql(url, "INSERT INTO schema_version (version, applied_at) VALUES (99, 0)");
      await assert.rejects(
        PostgresStore.open(url),
        new Error(
          `Cannot open run store: Postgres at "127.0.0.1:${server.port}${
            new URL(url).pathname
          }": ` +
            `schema version 99 is newer than this pipedreamer supports (${POSTGRES_MIGRATIONS.length}); upgrade pipedreamer`,
        ),
      );
    });
  },
});

Deno.test({
  name: "`PostgresStore` deletes expired cache rows when writing the cache and when pruning",
  ignore,
  async fn() {
    await withDatabase(async (url) => {
      let now = 0;
      const store = await PostgresStore.open(url, { now: () => now });
      const count = async () =>
        Number((await sql<{ n: string }>(url, "SELECT count(*) AS n FROM node_cache"))[0]!.n);
      try {
        await store.cache.set("a", { output: 1 }, 10);
        await store.cache.set("b", { output: 2 }, 100);
        now = 10;
        assert.equal(await count(), 2);
        await store.cache.set("c", { output: 3 }, 100);
        assert.equal(await count(), 2, "a expired and was deleted");
        now = 200;
        assert.equal(await store.prune({}), 0);
        assert.equal(await count(), 0);
      } finally {
        await store.close();
      }
    });
  },
});

Deno.test({
  name: "`PostgresStore` survives the server dropping its idle connections",
  ignore,
  async fn() {
    await withDatabase(async (url) => {
      const store = await PostgresStore.open(url);
      try {
        await store.setState("k", 1);
        await sql(
          url,
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()",
        );
        // The pool's dead connections are replaced; a failed query may surface once, never a crash.
        const value = await store.getState("k").catch(() => store.getState("k"));
        assert.equal(value, 1);
      } finally {
        await store.close();
      }
    });
  },
});
