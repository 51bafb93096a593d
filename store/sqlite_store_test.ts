import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { testRunStore } from "./_common_suite.ts";
import { SQLITE_MIGRATIONS } from "./_sqlite_migrations.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { listRunsQuery } from "./_sqlite_list.ts";
import type { ListRunsOptions } from "./run_store.ts";
import { withTempDir } from "./testdata/with_temp_dir.ts";

testRunStore("SqliteStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-store-" });
  let files = 0;
  return {
    async open(options) {
      const path = join(dir, `${++files}.db`);
      return {
        store: await SqliteStore.open(path, options),
        openAgain: () => SqliteStore.open(path, options),
      };
    },
    close: () => Deno.remove(dir, { recursive: true }),
  };
});

const CHILD = new URL("./testdata/sqlite_child.ts", import.meta.url).pathname;

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("pipedreamer-store-", fn);

function spawnChild(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CHILD, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** The child's stdout as lines. */
async function* lines(child: Deno.ChildProcess): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
}

Deno.test("`SqliteStore` keeps a node transition written just before the process is killed with SIGKILL", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "runs.db");
    const child = spawnChild(["crash", path]);
    await child.stdin.close();
    const out = lines(child);
    assert.equal((await out.next()).value, "written");
    child.kill("SIGKILL");
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    await out.return(undefined);
    const store = await SqliteStore.open(path);
    try {
      const run = await store.getRun("crash");
      assert.deepStrictEqual(run?.nodes.a, {
        status: "succeeded",
        attempts: 1,
        output: { ok: "ü" },
      });
      assert.deepStrictEqual((await store.listUnfinished()).map((r) => r.runId), ["crash"]);
    } finally {
      await store.close();
    }
  });
});

Deno.test("`SqliteStore` creates one run for one idempotency key across four processes opening a new file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "runs.db");
    const children = Array.from({ length: 4 }, (_, i) => spawnChild(["create", path, `p${i}`]));
    const outputs = children.map(lines);
    for (const out of outputs) assert.equal((await out.next()).value, "ready");
    const go = new TextEncoder().encode("go\n");
    await Promise.all(children.map(async (child) => {
      const writer = child.stdin.getWriter();
      await writer.write(go);
      await writer.close();
    }));
    const results = await Promise.all(outputs.map(async (out) => {
      const result = JSON.parse((await out.next()).value as string);
      await out.return(undefined);
      return result as { created: boolean; runId: string };
    }));
    for (const child of children) assert.equal((await child.status).code, 0);
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.runId)).size, 1);
  });
});

Deno.test("`SqliteStore` uses WAL and answers its hot queries from indexes", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "runs.db");
    await (await SqliteStore.open(path)).close();
    const db = new DatabaseSync(path);
    try {
      assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
      // listRuns' queries (their parameters do not change the plan).
      const lists = [
        {},
        { status: "failed" },
        { status: ["failed", "queued"] },
        {
          workflow: "w",
        },
        { workflow: "w", status: "failed" },
        { workflow: "w", status: ["failed", "queued"] },
      ]
        .map((options) => {
          const statuses = options.status === undefined ? undefined : [options.status].flat();
          return listRunsQuery(options as ListRunsOptions, 9, 50, statuses).sql;
        });
      const queries = [
        ...lists,
        "SELECT * FROM runs WHERE run_id = 'r'",
        "SELECT * FROM run_nodes WHERE run_seq = 1 ORDER BY rowid",
        "SELECT * FROM run_logs WHERE run_id = 'r' AND seq > 3 ORDER BY seq LIMIT 10",
        "DELETE FROM node_cache WHERE expires_at <= 5",
        // A prune, and the deletes it cascades to every table of the run.
        "DELETE FROM runs WHERE status IN ('succeeded') AND created_at < 5",
        "DELETE FROM idempotency_keys WHERE run_id = 'r'",
      ];
      for (const sql of queries) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => r.detail).join("; ");
        assert.doesNotMatch(plan, /\bSCAN \w+(?! USING)/, `${sql}: ${plan}`);
        // Sorting what a LIMITed range per status gave (`SCAN (subquery-N)`) is bounded.
        const sorts = plan.replaceAll(/SCAN \(subquery-\d+\); USE TEMP B-TREE FOR ORDER BY/g, "");
        if (!sql.includes("run_nodes")) {
          assert.doesNotMatch(sorts, /TEMP B-TREE/, `${sql}: ${plan}`);
        }
      }
    } finally {
      db.close();
    }
  });
});

Deno.test("`SqliteStore` deletes expired cache rows when writing the cache and when pruning", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "runs.db");
    let now = 0;
    const store = await SqliteStore.open(path, { now: () => now });
    const db = new DatabaseSync(path);
    const count = () => Number(db.prepare("SELECT count(*) AS n FROM node_cache").get()?.n);
    try {
      await store.cache.set("a", { output: 1 }, 10);
      await store.cache.set("b", { output: 2 }, 100);
      now = 10;
      assert.equal(count(), 2);
      await store.cache.set("c", { output: 3 }, 100);
      assert.equal(count(), 2, "a expired and was deleted");
      now = 200;
      assert.equal(await store.prune({}), 0);
      assert.equal(count(), 0);
    } finally {
      db.close();
      await store.close();
    }
  });
});

Deno.test("`SqliteStore.open()` refuses a file written by a newer schema version", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "runs.db");
    await (await SqliteStore.open(path)).close();
    const db = new DatabaseSync(path);
    db.exec("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)");
    db.close();
    await assert.rejects(
      SqliteStore.open(path),
      new RegExp(
        `^Error: Cannot open run store: SQLite file ".*runs\\.db": schema version 99 is newer than this pipedreamer supports \\(${SQLITE_MIGRATIONS.length}\\); upgrade pipedreamer$`,
      ),
    );
  });
});

Deno.test("`SqliteStore.updateNode()` cost on a file, awaited one by one (measured, printed)", async () => {
  await withDir(async (dir) => {
    // relaxed: a commit per call; full: a commit and an fsync per call (fewer calls).
    for (const [durability, n] of [["relaxed", 5_000], ["full", 300]] as const) {
      const store = await SqliteStore.open(join(dir, `${durability}.db`), { durability });
      try {
        await store.createRun({
          runId: "bench",
          workflow: "demo",
          version: "1.0.0",
          status: "running",
          input: {},
          nodes: {},
        });
        const output = { rows: Array.from({ length: 5 }, (_, i) => ({ id: i, name: `row ${i}` })) };
        const started = performance.now();
        for (let i = 0; i < n; i++) {
          await store.updateNode("bench", `node-${i % 20}`, {
            status: i % 2 ? "succeeded" : "running",
            attempts: 1,
            durationMs: i,
            output,
          });
        }
        const micros = (performance.now() - started) * 1000 / n;
        console.log(`    updateNode: ${micros.toFixed(1)} µs per call (${n} calls, ${durability})`);
        assert.equal(Object.keys((await store.getRun("bench"))!.nodes).length, 20);
      } finally {
        await store.close();
      }
    }
  });
});
