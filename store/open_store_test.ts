import { strict as assert } from "node:assert";
import { join } from "node:path";
import { openStore } from "./open_store.ts";
import { PostgresStore } from "./postgres_store.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { ignoreWithoutPostgres, startPostgresServer } from "../testing/mod.ts";

const RUN = {
  workflow: "demo",
  version: "1.0.0",
  status: "queued",
  input: null,
  nodes: {},
} as const;

Deno.test("`openStore()` opens SQLite files named by sqlite: URLs and the data dir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-open-" });
  try {
    const table: [string | undefined, string | undefined][] = [
      [undefined, join(dir, "data", "runs.db")],
      ["sqlite:", join(dir, "data", "runs.db")],
      [`sqlite:${dir}/a/one.db`, join(dir, "a", "one.db")],
      [`sqlite://${dir}/b/two.db`, join(dir, "b", "two.db")],
      ["sqlite::memory:", undefined],
    ];
    for (const [url, file] of table) {
      const store = await openStore(url, { dataDir: join(dir, "data") });
      try {
        assert.ok(store instanceof SqliteStore, String(url));
        await store.createRun({ ...RUN, runId: crypto.randomUUID() });
        if (file) assert.ok((await Deno.stat(file)).isFile, `${url} → ${file}`);
      } finally {
        await store.close();
      }
    }
    const again = await openStore(undefined, { dataDir: join(dir, "data") });
    assert.equal((await again.listRuns()).runs.length, 2, "undefined and sqlite: share a file");
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`openStore()` passes the durability to SQLite: full by default, relaxed on request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-open-" });
  try {
    for (
      const [durability, want] of [[undefined, "full"], ["full", "full"], [
        "relaxed",
        "relaxed",
      ]] as const
    ) {
      const store = await openStore(undefined, {
        dataDir: join(dir, String(durability)),
        durability,
      });
      try {
        assert.ok(store instanceof SqliteStore);
        assert.equal(store.durability, want, String(durability));
      } finally {
        await store.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`openStore()` rejects URLs it cannot open with a TypeError naming the fix", async () => {
  const table: [string, RegExp][] = [
    [
      "mysql://db/runs",
      /^Cannot open run store: unsupported scheme "mysql:"; use sqlite:<path> or postgres:/,
    ],
    ["runs.db", /^Cannot open run store: the value is not a URL; use sqlite:<path>/],
    ["postgres://user:s3cret@[::1/db", /^Cannot open run store: the Postgres URL is malformed/],
  ];
  for (const [url, message] of table) {
    const error = await openStore(url).then(() => undefined, (e: Error) => e);
    assert.ok(error instanceof TypeError, url);
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /s3cret/);
  }
});

Deno.test("`openStore()` reports an unreachable Postgres without its password", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  const error = await openStore(`postgres://user:s3cret@127.0.0.1:${port}/runs`).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(error instanceof Error);
  assert.match(
    error.message,
    new RegExp(`^Cannot open run store: Postgres at "127.0.0.1:${port}/runs": `),
  );
  assert.doesNotMatch(error.message, /s3cret/);
  assert.ok(error.cause instanceof Error);
});

Deno.test({
  name: "`openStore()` opens Postgres for postgres:// and postgresql:// URLs",
  ignore: ignoreWithoutPostgres(),
  async fn() {
    await using server = await startPostgresServer();
    const url = await server.createDatabase();
    for (const scheme of ["postgres:", "postgresql:"]) {
      const store = await openStore(url.replace(/^postgres:/, scheme));
      try {
        assert.ok(store instanceof PostgresStore);
        await store.createRun({ ...RUN, runId: scheme });
      } finally {
        await store.close();
      }
    }
  },
});
