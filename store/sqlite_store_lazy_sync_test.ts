import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { SqliteStore } from "./sqlite_store.ts";

const RUN = {
  runId: "r1",
  workflow: "demo",
  version: "1",
  status: "queued",
  input: 0,
  nodes: {},
} as const;
const NODE = { status: "succeeded", attempts: 1, output: 1 } as const;

/** A store on a temp file whose fsyncs are counted and can be held. */
async function withStore(
  fn: (store: SqliteStore, sync: ReturnType<typeof gatedSync>, path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-lazy-sync-" });
  const sync = gatedSync();
  const path = join(dir, "runs.db");
  const store = await SqliteStore.open(path, { syncFile: sync.syncFile });
  try {
    await fn(store, sync, path);
  } finally {
    sync.open();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function gatedSync() {
  let calls = 0;
  let release = () => {};
  let gate = Promise.resolve();
  const started: (() => void)[] = [];
  return {
    get calls() {
      return calls;
    },
    close() {
      gate = new Promise((resolve) => (release = resolve));
    },
    open: () => release(),
    /** Resolves at the next call. */
    next: () => new Promise<void>((resolve) => started.push(resolve)),
    async syncFile(_path: string) {
      calls++;
      for (const resolve of started.splice(0)) resolve();
      await gate;
    },
  };
}

/**
 * Creates RUN, then holds the fsyncs and starts one for a first write; resolves once that fsync
 * runs (held), with the first write.
 */
async function fsyncRunning(
  store: SqliteStore,
  sync: ReturnType<typeof gatedSync>,
): Promise<{ first: Promise<void> }> {
  await store.createRun(RUN);
  sync.close();
  const next = sync.next();
  const first = store.setState("k", 1);
  await next;
  return { first };
}

function committed(path: string, sql: string): unknown {
  const other = new DatabaseSync(path);
  try {
    return other.prepare(sql).get();
  } finally {
    other.close();
  }
}

Deno.test("`SqliteStore` full: writes made in lazily() share the fsync of the write that ends them", async () => {
  await withStore(async (store, sync) => {
    await store.createRun(RUN);
    const before = sync.calls;
    let settled = 0;
    const writes = store.lazily(() => [
      store.updateRun("r1", { status: "running" }),
      store.updateNode("r1", "a", NODE),
      store.appendLogs("r1", [{
        ts: "2025-01-01T00:00:00.000Z",
        level: "info",
        msg: "hi",
        runId: "r1",
      }]),
    ]).map((p) => p.then(() => settled++));
    // Nothing acknowledges them: no fsync starts for them within this turn and the next.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sync.calls, before);
    assert.equal(settled, 0);
    // The final transition is acknowledged: one fsync covers it and all before it.
    await store.updateRun("r1", { status: "succeeded", result: 1, finishedAt: "x" });
    await Promise.all(writes);
    assert.equal(settled, 3);
    assert.equal(sync.calls, before + 1);
  });
});

Deno.test("`SqliteStore` full: a lazy write alone still becomes durable; one outside lazily() is urgent", async () => {
  await withStore(async (store, sync) => {
    await store.createRun(RUN);
    const before = sync.calls;
    assert.equal(await store.lazily(() => store.updateNode("r1", "a", NODE)), true);
    assert.equal(sync.calls, before + 1);
    sync.close();
    const next = sync.next();
    const urgent = store.updateNode("r1", "b", NODE);
    await next; // started for it, without any later write
    sync.open();
    assert.equal(await urgent, true);
  });
});

Deno.test("`SqliteStore` full: a lazy write commits at the end of its turn, even during an fsync; it settles after the next", async () => {
  await withStore(async (store, sync, path) => {
    const { first } = await fsyncRunning(store, sync);
    // An fsync runs: a lazy write (a node's success) is committed at once, so a kill -9 now
    // cannot lose it, but it settles only once a later fsync covers it.
    let settled = false;
    const lazy = store.lazily(() => store.updateNode("r1", "a", NODE)).then(() => settled = true);
    await new Promise((resolve) => setImmediate(resolve));
    const nodes = committed(path, "SELECT count(*) AS n FROM run_nodes") as { n: number };
    assert.equal(nodes.n, 1, "committed at the end of its turn");
    assert.equal(settled, false);
    sync.open();
    await Promise.all([first, lazy]);
    assert.equal(settled, true);
  });
});

Deno.test("`SqliteStore.committed()` resolves at the commit of the writes called before it, before their fsync", async () => {
  await withStore(async (store, sync, path) => {
    await store.createRun(RUN);
    sync.close();
    let durable = false;
    const lazy = store.lazily(() => store.updateNode("r1", "a", NODE)).then(() => durable = true);
    await store.committed();
    // Another connection (a process after a kill -9) sees it; its fsync has not ended.
    const nodes = committed(path, "SELECT count(*) AS n FROM run_nodes") as { n: number };
    assert.equal(nodes.n, 1);
    assert.equal(durable, false);
    // Nothing queued: resolves at once, with no commit of its own.
    await store.committed();
    sync.open();
    await lazy;
  });
});

Deno.test("`SqliteStore.committed()` rejects when the commit fails, and once the store is closed", async () => {
  await withStore(async (store, _sync, path) => {
    await store.createRun(RUN);
    // A deferred foreign key violation, inserted by a trigger: the COMMIT itself fails.
    const other = new DatabaseSync(path);
    other.exec(`CREATE TRIGGER orphan AFTER INSERT ON run_nodes BEGIN
      INSERT INTO idempotency_keys (workflow, key, run_id, expires_at) VALUES ('w', 'k', 'none', 0);
    END`);
    other.close();
    const write = store.lazily(() => store.updateNode("r1", "a", NODE));
    await assert.rejects(store.committed(), /FOREIGN KEY constraint failed/);
    await assert.rejects(write, /FOREIGN KEY constraint failed/);
  });
  const memory = await SqliteStore.open(":memory:");
  await memory.close();
  await assert.rejects(memory.committed(), /^TypeError: Cannot use run store: it is closed$/);
});

Deno.test("`SqliteStore` full: writes made during an fsync commit together when it ends", async () => {
  await withStore(async (store, sync, path) => {
    const { first } = await fsyncRunning(store, sync);
    // The fsync of the first write runs: these wait for the next one, uncommitted till then.
    const second = store.setState("k", 2);
    const third = store.updateNode("r1", "a", NODE);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(
      (committed(path, "SELECT value FROM engine_state") as { value: string }).value,
      "1",
    );
    const nodes = committed(path, "SELECT count(*) AS n FROM run_nodes") as { n: number };
    assert.equal(nodes.n, 0);
    const calls = sync.calls;
    sync.open();
    await Promise.all([first, second, third]);
    assert.equal(sync.calls, calls + 1, "one more fsync for both");
    assert.equal(await store.getState("k"), 2);
  });
});

Deno.test("`SqliteStore` full: createRun with beforeDurable resolves at the commit; durable() after the fsync", async () => {
  await withStore(async (store, sync, path) => {
    await store.setState("warm", 1);
    sync.close();
    const next = sync.next();
    const created = await store.createRun(RUN, { beforeDurable: true });
    assert.equal(created.created, true);
    assert.ok(committed(path, "SELECT run_id FROM runs"), "committed");
    assert.equal(typeof created.durable, "function");
    let durable = false;
    const waiting = created.durable!().then(() => (durable = true));
    await next;
    assert.equal(durable, false);
    sync.open();
    await waiting;
    assert.equal(durable, true);
    // Without the option, or relaxed, the write is durable when it resolves.
    const plain = await store.createRun({ ...RUN, runId: "r2" });
    assert.equal(plain.durable, undefined);
  });
});
