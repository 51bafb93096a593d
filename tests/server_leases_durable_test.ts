/**
 * Lease fencing of the durable state between real `pipedreamer serve` replicas on one real
 * PostgreSQL store: a replica paused past its lease (SIGSTOP) records no map element after it
 * resumes, while the replica that took the run over finishes it.
 */

import assert from "node:assert/strict";
import { PostgresStore } from "../store/mod.ts";
import { startPostgresServer, waitFor } from "../testing/mod.ts";
import { CallbackServer, startServe } from "./_serve.ts";
import { pgIgnore, project } from "./_durable_serve.ts";

const POLL = { timeoutMs: 120_000, intervalMs: 100 };

Deno.test({
  name: "a `serve` replica paused past its lease (SIGSTOP) writes no map elements after SIGCONT",
  ignore: pgIgnore,
  async fn() {
    await using pg = await startPostgresServer();
    const url = await pg.createDatabase();
    await using callback = new CallbackServer();
    await using p = await project("durable-map", callback);
    const store = await PostgresStore.open(url);
    try {
      const replica = () =>
        startServe([...p.args({ store: url }), "--lease", "2s", "--grace", "1s"]);
      callback.hold("held");
      await using a = await replica();
      await using b = await replica();
      const response = await fetch(`${a.url}/runs`, {
        method: "POST",
        headers: { authorization: `Bearer ${p.token}` },
        body: JSON.stringify({ n: 8, call: true, holdFrom: 4 }),
      });
      assert.equal(response.status, 202, await response.clone().text());
      const { runId } = await response.json();
      // Elements 0-3 are stored; 4-7 hold the map's four slots on A.
      await callback.waitForCall("held", 4, runId);
      const stored = async () => (await store.listMapItems(runId, "each", { limit: 1000 })).items;
      await waitFor(async () => (await stored()).length === 4, "elements 0-3 stored", POLL);
      a.child.kill("SIGSTOP");
      // B takes the run over once A's lease lapses and runs elements 4-7 again.
      await callback.waitForCall("held", 8, runId);
      // Every held call is answered: A's answers wait in its sockets while it is stopped.
      callback.release("held");
      await waitFor(
        async () => (await store.getRun(runId))?.status === "succeeded",
        "B to finish the run",
        POLL,
      );
      const record = await store.getRun(runId);
      assert.deepEqual(record?.result, { count: 8, sum: 56 });
      const items = await stored();
      assert.equal(items.length, 8);

      a.child.kill("SIGCONT");
      await a.waitForStderr(/another replica took it over/);
      assert.equal((await a.stop("SIGTERM")).code, 0, a.stderr());
      // A's elements 4-7 finished after it resumed: none of their records reached the store.
      assert.deepEqual(await stored(), items);
      assert.deepEqual(await store.getRun(runId), record);
      for (let i = 4; i < 8; i++) assert.equal(callback.count(`each-${i}`, runId), 2);
      assert.equal((await b.stop("SIGTERM")).code, 0, b.stderr());
    } finally {
      await store.close();
    }
  },
});
