import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import type { RunRecord } from "../engine/mod.ts";
import { SQLITE_MIGRATIONS } from "./_sqlite_migrations.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { withTempDir } from "./testdata/with_temp_dir.ts";

const CHILD = new URL("./testdata/sqlite_migrate_child.ts", import.meta.url).pathname;
const TABLES = [
  "runs",
  "run_nodes",
  "run_logs",
  "idempotency_keys",
  "node_cache",
  "engine_state",
  "map_items",
  "step_results",
  "run_waits",
];
const RUN_FIELDS = "seq, run_id, workflow, status, created_at, data, result, error, started_at, " +
  "finished_at, duration_ms, owner, lease_until, log_seq, lease_epoch";

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("pipedreamer-migration-", fn);

function run(runId: string, workflow: string, status: RunRecord["status"]): RunRecord {
  return { runId, workflow, version: "1.0.0", status, input: { runId, text: "ü" }, nodes: {} };
}

/** Writes every kind of row through the store (of the current schema) at `path`. */
async function writeData(path: string): Promise<void> {
  let now = 1_000;
  const store = await SqliteStore.open(path, { now: () => now });
  try {
    await store.createRun(run("r1", "w1", "queued"), { idempotencyKey: "k1", owner: "o1" });
    await store.updateRun("r1", { status: "running", startedAt: "2026-01-01T00:00:00.000Z" });
    // Not in id order: a run's nodes come back in the order they were first written.
    for (const id of ["b", "a", "c"]) {
      await store.updateNode("r1", id, { status: "running", attempts: 1 });
    }
    await store.updateNode("r1", "b", { status: "succeeded", attempts: 1, output: { ok: 1 } });
    await store.appendLogs("r1", [
      { ts: "t1", level: "info", runId: "r1", node: "b", msg: "one" },
      { ts: "t2", level: "warn", runId: "r1", node: "a", msg: "two" },
    ]);
    now = 2_000;
    await store.createRun(run("r2", "w2", "running"));
    for (let index = 0; index < 3; index++) {
      await store.putMapItem("r2", "m", { index, status: "succeeded", attempts: 1, output: index });
    }
    await store.putStep("r2", "n", "charge", { id: 7 });
    await store.updateRun("r2", {
      status: "succeeded",
      result: { total: 3 },
      finishedAt: "2026-01-01T00:00:01.000Z",
      durationMs: 12.5,
    });
    await store.createRun(run("r3", "w1", "running"));
    await store.putWait("r3", "sleep", { dueAt: 5_000 });
    await store.putWait("r3", "ev", { event: "go" });
    await store.resolveWait("r3", "ev", { kind: "event", event: "go", payload: { x: 1 } });
    await store.updateRun("r3", { status: "waiting" });
    // An input too large for its row's page (UTF-8: 2 bytes a character): kept apart.
    await store.createRun({ ...run("r4", "w2", "failed"), input: { big: "é".repeat(2_000) } });
    await store.updateRun("r4", { error: { node: "x", message: "bad" } });
    // The newest run, deleted: its seq must never be given again.
    await store.createRun(run("r5", "gone", "succeeded"));
    assert.equal(await store.prune({ workflow: "gone", maxRuns: 0 }), 1);
    await store.setState("k", { a: 1 });
    await store.cache.set("ck", { output: { cached: true } }, 60_000);
  } finally {
    await store.close();
  }
}

/**
 * A database of schema version 3 (the migrations before this change, as the old code applied
 * them) holding the rows of `source`, and `sqlite_sequence` as AUTOINCREMENT left it after the
 * newest run was deleted.
 */
function writeVersion3(path: string, source: string, bulkRuns = 0): void {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("BEGIN");
    db.exec(
      "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    );
    for (const migration of SQLITE_MIGRATIONS.slice(0, 3)) {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_version VALUES (?, 0)").run(migration.version);
    }
    db.exec("COMMIT");
    db.prepare("ATTACH DATABASE ? AS src").run(source);
    db.exec("BEGIN");
    for (const table of TABLES) {
      const columns = table === "runs"
        ? RUN_FIELDS.replace(
          "data",
          "CASE WHEN data = '' THEN (SELECT i.data FROM src.run_inputs i WHERE i.seq = r.seq) " +
            "ELSE data END",
        )
        : table === "run_nodes"
        ? "r.rowid, (SELECT run_id FROM src.runs WHERE seq = r.run_seq), node_id, record"
        : "*";
      const into = table === "runs"
        ? ` (${RUN_FIELDS})`
        : table === "run_nodes"
        ? " (rowid, run_id, node_id, record)"
        : "";
      db.exec(`INSERT INTO ${table}${into} SELECT ${columns} FROM src.${table} AS r`);
    }
    const insert = db.prepare(
      `INSERT INTO runs (run_id, workflow, status, created_at, data) VALUES (?, 'bulk', 'succeeded',
       0, ?)`,
    );
    const node = db.prepare("INSERT INTO run_nodes VALUES (?, 'n', ?)");
    for (let i = 0; i < bulkRuns; i++) {
      insert.run(`bulk-${i}`, JSON.stringify({ runId: `bulk-${i}`, input: "x".repeat(900) }));
      node.run(`bulk-${i}`, JSON.stringify({ status: "succeeded", output: "y".repeat(500) }));
    }
    db.exec(
      "UPDATE sqlite_sequence SET seq = (SELECT max(seq) + 1 FROM runs) WHERE name = 'runs'",
    );
    db.exec("COMMIT");
    db.exec("DETACH DATABASE src");
  } finally {
    db.close();
  }
}

/** Everything the store answers about the runs of {@link writeData}. */
async function snapshot(store: SqliteStore) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ workflow: "w1", limit: 1, cursor });
    pages.push(page.runs.map((r) => r.runId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return {
    runs: await Promise.all(["r1", "r2", "r3", "r4", "r5"].map((id) => store.getRun(id))),
    pages,
    w2: await store.listRuns({ workflow: "w2" }),
    w2Done: await store.listRuns({ workflow: "w2", status: ["succeeded", "failed"] }),
    waiting: await store.listRuns({ status: "waiting" }),
    unfinished: (await store.listUnfinished({ workflow: "w1" })).map((r) => r.runId),
    logs: await store.getLogs("r1"),
    nodeLogs: await store.getLogs("r1", { node: "a" }),
    map: await store.listMapItems("r2", "m"),
    step: await store.getStep("r2", "n", "charge"),
    waits: await store.listWaits("r3"),
    due: await store.listDueWaits(10_000),
    state: await store.getState("k"),
    cache: await store.cache.get("ck"),
  };
}

function schemaOf(path: string) {
  const db = new DatabaseSync(path);
  try {
    const names = db.prepare("SELECT name FROM sqlite_master ORDER BY name").all()
      .map((r) => String(r.name));
    const version = Number(db.prepare("SELECT max(version) AS v FROM schema_version").get()?.v);
    const sequence = names.includes("sqlite_sequence")
      ? db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").get()?.seq
      : undefined;
    const counts = Object.fromEntries(
      TABLES.map((t) => [t, Number(db.prepare(`SELECT count(*) AS n FROM ${t}`).get()?.n)]),
    );
    const orphans = db.prepare("PRAGMA foreign_key_check").all().length;
    const apart = names.includes("run_inputs")
      ? db.prepare("SELECT seq FROM run_inputs").all().map((r) => Number(r.seq))
      : undefined;
    return { names, version, sequence, counts, orphans, apart };
  } finally {
    db.close();
  }
}

/** The `seq` of the newest run (the cursor after a one-run page). */
async function newestSeq(store: SqliteStore): Promise<number> {
  return Number((await store.listRuns({ limit: 1 })).nextCursor);
}

/**
 * Calls `fn` with a schema-3 file (`old`) holding the rows of {@link writeData} (and `bulkRuns`
 * more runs, see {@link writeVersion3}) and the current-schema file it was copied from (`fresh`).
 */
function withVersion3(
  bulkRuns: number,
  fn: (old: string, fresh: string) => Promise<void>,
): Promise<void> {
  return withDir(async (dir) => {
    const fresh = join(dir, "fresh.db");
    const old = join(dir, "old.db");
    await writeData(fresh);
    writeVersion3(old, fresh, bulkRuns);
    await fn(old, fresh);
  });
}

Deno.test("a store of schema version 3 migrates with every row, and reads as a new one", async () => {
  await withVersion3(0, async (old, fresh) => {
    const before = schemaOf(old);
    assert.equal(before.version, 3);
    assert.equal(before.sequence, 5);
    assert.ok(before.names.includes("runs_workflow_seq"));
    const expected = await SqliteStore.open(fresh, { now: () => 3_000 });
    const migrated = await SqliteStore.open(old, { now: () => 3_000 });
    try {
      const after = schemaOf(old);
      assert.equal(after.version, SQLITE_MIGRATIONS.length);
      assert.deepStrictEqual(after.counts, before.counts);
      assert.equal(after.orphans, 0);
      assert.ok(!after.names.includes("runs_workflow_seq"));
      assert.equal(after.sequence, undefined);
      assert.deepStrictEqual(after.apart, [4]);
      const snap = await snapshot(migrated);
      assert.deepStrictEqual(snap, await snapshot(expected));
      assert.deepStrictEqual(Object.keys(snap.runs[0]!.nodes), ["b", "a", "c"]);
      assert.equal(snap.runs[4], undefined);
      assert.deepStrictEqual(snap.pages, [["r3"], ["r1"]]);
      // The idempotency key still names its run.
      const again = await migrated.createRun(run("r6", "w1", "queued"), { idempotencyKey: "k1" });
      assert.deepStrictEqual([again.created, again.record.runId], [false, "r1"]);
      // A new run comes after every run ever created (r5, deleted, had seq 5), in both.
      for (const store of [migrated, expected]) {
        await store.createRun(run("r7", "w1", "queued"));
        assert.equal(await newestSeq(store), 6);
        await store.updateNode("r7", "x", { status: "running", attempts: 1 });
        assert.deepStrictEqual(Object.keys((await store.getRun("r7"))!.nodes), ["x"]);
      }
      // A transition of a run whose input is kept apart leaves the input as it was.
      assert.equal(await migrated.updateRun("r4", { status: "cancelled" }), true);
      assert.deepStrictEqual((await migrated.getRun("r4"))!.input, snap.runs[3]!.input);
      // Deleting a migrated run deletes its rows everywhere (foreign keys are on again).
      assert.equal(await migrated.prune({ workflow: "w2", maxRuns: 0 }), 2);
      assert.deepStrictEqual((await migrated.listMapItems("r2", "m")).items, []);
      assert.equal(await migrated.getStep("r2", "n", "charge"), undefined);
      const db = new DatabaseSync(old);
      try {
        assert.equal(db.prepare("PRAGMA foreign_key_check").all().length, 0);
        const nodes = db.prepare("SELECT count(*) AS n FROM run_nodes WHERE run_seq = 2").get();
        assert.equal(Number(nodes?.n), 0);
        for (const table of ["map_items", "step_results"]) {
          const n = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE run_id = 'r2'`).get()?.n;
          assert.equal(Number(n), 0, table);
        }
        assert.equal(Number(db.prepare("SELECT count(*) AS n FROM run_inputs").get()?.n), 0);
      } finally {
        db.close();
      }
    } finally {
      await migrated.close();
      await expected.close();
    }
  });
});

Deno.test("a run's seq is never given again after the newest run was deleted", async () => {
  await withDir(async (dir) => {
    let now = 1_000;
    const store = await SqliteStore.open(join(dir, "runs.db"), { now: () => now });
    try {
      await store.createRun(run("a", "w", "queued"));
      await store.createRun(run("b", "w", "succeeded"));
      await store.createRun(run("c", "w", "succeeded"));
      const first = await store.listRuns({ limit: 1 });
      assert.equal(await newestSeq(store), 3);
      now = 100_000;
      assert.equal(await store.prune({ maxAgeMs: 1 }), 2); // b and c: the newest is gone
      await store.createRun(run("d", "w", "queued"));
      assert.equal(await newestSeq(store), 4);
      // A client paging below c's seq sees only runs older than its first page, not d.
      const next = await store.listRuns({ limit: 5, cursor: first.nextCursor });
      assert.deepStrictEqual(next.runs.map((r) => r.runId), ["a"]);
      // One range per status, each status once.
      const queued = await store.listRuns({ workflow: "w", status: ["queued", "queued"] });
      assert.deepStrictEqual(queued.runs.map((r) => r.runId), ["d", "a"]);
      const none = await store.listRuns({ workflow: "w", status: [] });
      assert.deepStrictEqual(none.runs, []);
    } finally {
      await store.close();
    }
  });
});

Deno.test("a migration that fails half-way changes nothing; rows orphaned before stay", async () => {
  await withVersion3(0, async (old) => {
    const db = new DatabaseSync(old);
    // Fails at the migration's third statement, after it created runs_seq_floor.
    db.exec("CREATE TABLE runs_v4 (x)");
    // A row without its run (only a hand edit makes one): not the migration's doing.
    db.exec("PRAGMA foreign_keys = OFF");
    db.exec("INSERT INTO run_logs (run_id, seq, line) VALUES ('nobody', 1, '{}')");
    db.close();
    const before = schemaOf(old);
    assert.equal(before.orphans, 1);
    await assert.rejects(SqliteStore.open(old), /table runs_v4 already exists/);
    assert.deepStrictEqual(schemaOf(old), before);
    const fix = new DatabaseSync(old);
    fix.exec("DROP TABLE runs_v4");
    fix.close();
    const store = await SqliteStore.open(old);
    try {
      const after = schemaOf(old);
      assert.equal(after.version, SQLITE_MIGRATIONS.length);
      assert.equal(after.orphans, 1);
      assert.deepStrictEqual(after.counts, before.counts);
    } finally {
      await store.close();
    }
  });
});

Deno.test("kill -9 during the migration leaves the old schema, which migrates on the next open", async () => {
  await withVersion3(3_000, async (old, fresh) => {
    const before = schemaOf(old);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", CHILD, old],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("migrated")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    // The migration ran to its COMMIT, and wrote pages past its cache into the WAL.
    assert.match(seen, /migrated/);
    assert.ok((await Deno.stat(`${old}-wal`)).size > 1_000_000);
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const killed = schemaOf(old);
    assert.deepStrictEqual(killed, before);
    const expected = await SqliteStore.open(fresh);
    const migrated = await SqliteStore.open(old);
    try {
      assert.equal(schemaOf(old).version, SQLITE_MIGRATIONS.length);
      assert.deepStrictEqual(schemaOf(old).counts, before.counts);
      assert.deepStrictEqual(await snapshot(migrated), await snapshot(expected));
      assert.equal((await migrated.listRuns({ workflow: "bulk", limit: 1000 })).runs.length, 1000);
      await migrated.createRun(run("r7", "w1", "queued"));
      assert.equal(await newestSeq(migrated), 3_006);
    } finally {
      await migrated.close();
      await expected.close();
    }
  });
});
