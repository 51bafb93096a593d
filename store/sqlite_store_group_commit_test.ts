import { strict as assert } from "node:assert";
import { join } from "node:path";
import { SqliteStore } from "./sqlite_store.ts";
import type { RunRecord } from "../engine/mod.ts";

const RUN: RunRecord = {
  runId: "r1",
  workflow: "demo",
  version: "1.0.0",
  status: "running",
  input: {},
  nodes: {},
};

async function withStores(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-store-" });
  try {
    await fn(join(dir, "runs.db"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`SqliteStore` commits the writes of one turn together, in call order, before they resolve", async () => {
  await withStores(async (path) => {
    const store = await SqliteStore.open(path);
    const other = await SqliteStore.open(path);
    try {
      await store.createRun(RUN);
      const writes = [
        store.updateNode("r1", "a", { status: "running", attempts: 1 }),
        store.updateNode("r1", "a", { status: "succeeded", attempts: 1, output: 1 }),
        store.updateNode("r1", "b", { status: "running", attempts: 1 }),
        store.updateNode("nope", "a", { status: "running", attempts: 1 }),
      ];
      // Not committed yet: another connection (another process) does not see them.
      assert.deepEqual((await other.getRun("r1"))?.nodes, {});
      assert.deepEqual(await Promise.all(writes), [true, true, true, false]);
      const seen = await other.getRun("r1");
      assert.deepEqual(seen?.nodes.a, { status: "succeeded", attempts: 1, output: 1 });
      assert.equal(seen?.nodes.b?.status, "running");
    } finally {
      await other.close();
      await store.close();
    }
  });
});

Deno.test("`SqliteStore` reads see every write called before them", async () => {
  await withStores(async (path) => {
    const store = await SqliteStore.open(path);
    try {
      const created = store.createRun(RUN);
      const updated = store.updateRun("r1", { status: "succeeded" });
      assert.equal((await store.getRun("r1"))?.status, "succeeded");
      assert.equal((await store.listRuns()).runs.length, 1);
      assert.equal((await created).created, true);
      assert.equal(await updated, true);
    } finally {
      await store.close();
    }
  });
});

Deno.test("`SqliteStore` fails only the write that failed in a shared commit", async () => {
  await withStores(async (path) => {
    const store = await SqliteStore.open(path);
    try {
      const first = store.createRun(RUN);
      const duplicate = store.createRun(RUN);
      const node = store.updateNode("r1", "a", { status: "running", attempts: 1 });
      assert.equal((await first).created, true);
      await assert.rejects(duplicate, /run id "r1" already exists/);
      assert.equal(await node, true);
      assert.equal((await store.getRun("r1"))?.nodes.a?.status, "running");
    } finally {
      await store.close();
    }
  });
});

Deno.test("`SqliteStore.close()` commits the writes still queued", async () => {
  await withStores(async (path) => {
    const store = await SqliteStore.open(path);
    const created = store.createRun(RUN);
    await store.close();
    assert.equal((await created).created, true);
    const reopened = await SqliteStore.open(path);
    try {
      assert.equal((await reopened.getRun("r1"))?.runId, "r1");
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("`SqliteStore` refuses a stale lease's writes in the commit where the lease changed, and in later ones", async () => {
  await withStores(async (path) => {
    const store = await SqliteStore.open(path);
    const other = await SqliteStore.open(path);
    try {
      const { lease } = await store.createRun({ ...RUN, nodes: {} }, { owner: "a" });
      const stale = lease!;
      // One commit: a fenced write, a takeover, the same fence again, a write of the new owner.
      const before = store.updateNode("r1", "x", { status: "running", attempts: 1 }, stale);
      const taken = store.claimLease("r1", "b", 60_000, { force: true });
      const after = store.updateNode("r1", "x", { status: "succeeded", attempts: 1 }, stale);
      const logs = store.appendLogs(
        "r1",
        [{ ts: "t", level: "info", msg: "m", runId: "r1" }],
        stale,
      );
      assert.equal(await before, true);
      const current = (await taken)!;
      assert.deepEqual(current, { owner: "b", epoch: 2 });
      await assert.rejects(after, { name: "LeaseLostError" });
      await assert.rejects(logs, { name: "LeaseLostError" });
      // The new owner's writes apply in the next commit; then another process takes it over.
      assert.equal(await store.updateRun("r1", { status: "running" }, current), true);
      assert.deepEqual(await other.claimLease("r1", "c", 60_000, { force: true }), {
        owner: "c",
        epoch: 3,
      });
      await assert.rejects(store.updateRun("r1", { status: "failed" }, current), {
        name: "LeaseLostError",
      });
      const stored = await store.getRun("r1");
      assert.equal(stored?.status, "running");
      assert.equal(stored?.nodes.x?.status, "running");
    } finally {
      await other.close();
      await store.close();
    }
  });
});
