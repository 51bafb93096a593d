import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { SqliteStore } from "./sqlite_store.ts";
import { withTempDir } from "./testdata/with_temp_dir.ts";

const RUN = {
  runId: "r1",
  workflow: "demo",
  version: "1.0.0",
  status: "queued",
  input: null,
  nodes: {},
} as const;

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("pipedreamer-durability-", fn);

/** A syncFile that records its calls and completes only when released. */
function gatedSync() {
  const calls: string[] = [];
  let release = () => {};
  let gate = Promise.resolve();
  const waiters: { count: number; resolve(): void }[] = [];
  return {
    calls,
    close() {
      gate = new Promise((resolve) => (release = resolve));
    },
    open: () => release(),
    /** Resolves once syncFile was called `count` times in all. */
    calledTimes(count: number): Promise<void> {
      if (calls.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async syncFile(path: string) {
      calls.push(path);
      for (const waiter of waiters.filter((w) => calls.length >= w.count)) waiter.resolve();
      await gate;
    },
  };
}

Deno.test("`SqliteStore` settles a write only after an fsync of the WAL that began after its commit", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "runs.db");
    const sync = gatedSync();
    const store = await SqliteStore.open(path, { syncFile: sync.syncFile });
    try {
      assert.equal(store.durability, "full");
      await store.createRun(RUN);
      assert.deepEqual(sync.calls, [`${path}-wal`, dir], "the WAL, then its directory once");
      sync.close();
      let settled = false;
      const write = store.setState("k", 1).then(() => (settled = true));
      await sync.calledTimes(3);
      // Committed (another connection sees it) but not yet durable: not settled.
      const other = new DatabaseSync(path);
      try {
        assert.equal(
          other.prepare("SELECT value FROM engine_state WHERE key = 'k'").get()?.value,
          "1",
        );
      } finally {
        other.close();
      }
      assert.equal(settled, false);
      // A write committed while that fsync runs waits for one that begins after its commit.
      const callsBefore = sync.calls.length;
      const second = store.setState("k", 2);
      let read: unknown = "pending";
      const reading = store.getState("k").then((value) => (read = value));
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(read, "pending", "a read waits until what it would see is durable");
      sync.open();
      await write;
      await second;
      await reading;
      assert.equal(read, 2);
      assert.ok(sync.calls.length >= callsBefore + 1, "a second fsync covered the second write");
      assert.ok(sync.calls.every((p) => p === `${path}-wal` || p === dir));
    } finally {
      sync.open();
      await store.close();
    }
  });
});

Deno.test("`SqliteStore` rejects the writes whose fsync failed, and every write after it", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "runs.db");
    let fail = false;
    const store = await SqliteStore.open(path, {
      syncFile: (file) => fail ? Promise.reject(new Error("EIO")) : Promise.resolve(void file),
    });
    try {
      await store.createRun(RUN);
      fail = true;
      await assert.rejects(
        store.updateRun("r1", { status: "running" }),
        new RegExp(`^Error: Cannot make the write durable: fsync of "${path}-wal" failed: EIO$`),
      );
      fail = false;
      await assert.rejects(
        store.updateRun("r1", { status: "succeeded" }),
        /^Error: Cannot write to run store: an fsync of ".*-wal" failed \(EIO\); restart the process/,
      );
      assert.equal((await store.getRun("r1"))?.status, "running", "reads still work");
    } finally {
      await store.close();
    }
  });
});

Deno.test("`SqliteStore` with durability relaxed or in memory settles at the commit, without fsync", async () => {
  await withDir(async (dir) => {
    const calls: string[] = [];
    const syncFile = (path: string) => {
      calls.push(path);
      return Promise.resolve();
    };
    const relaxed = await SqliteStore.open(join(dir, "relaxed.db"), {
      durability: "relaxed",
      syncFile,
    });
    const memory = await SqliteStore.open(":memory:", { syncFile });
    try {
      assert.equal(relaxed.durability, "relaxed");
      for (const store of [relaxed, memory]) {
        await store.createRun(RUN);
        assert.equal(await store.updateRun("r1", { status: "running" }), true);
        assert.equal((await store.getRun("r1"))?.status, "running");
      }
      assert.deepEqual(calls, []);
    } finally {
      await Promise.all([relaxed.close(), memory.close()]);
    }
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      SqliteStore.open(join(dir, "bad.db"), { durability: "fast" as any }),
      (error: Error) =>
        error instanceof RangeError &&
        /durability "fast" is not "full" or "relaxed"/.test(error.message),
    );
  });
});

Deno.test("`SqliteStore.close()` waits until the committed writes are durable", async () => {
  await withDir(async (dir) => {
    const sync = gatedSync();
    const store = await SqliteStore.open(join(dir, "runs.db"), { syncFile: sync.syncFile });
    await store.createRun(RUN);
    sync.close();
    const write = store.setState("k", 1);
    let closed = false;
    const closing = store.close().then(() => (closed = true));
    await sync.calledTimes(3);
    assert.equal(closed, false);
    sync.open();
    await closing;
    await write;
    assert.equal(closed, true);
  });
});
