import assert from "node:assert/strict";
import { type NodeRecord } from "../engine/mod.ts";
import { FakeClock } from "../testing/mod.ts";
import { type RunStore, SqliteStore } from "../store/mod.ts";
import { harness } from "./testdata/manager_harness.ts";

/** A store that records how many `updateNode` calls were in flight at once, in call order. */
function countingStore(store: SqliteStore, ordersWrites: boolean) {
  const stats = { inFlight: 0, maxInFlight: 0, calls: [] as string[] };
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === "ordersWrites") return ordersWrites;
      if (property === "updateNode") {
        return async (runId: string, nodeId: string, node: NodeRecord) => {
          stats.calls.push(`${nodeId}:${node.status}`);
          stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
          try {
            return await target.updateNode(runId, nodeId, node);
          } finally {
            stats.inFlight--;
          }
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as RunStore;
  return { proxy, stats };
}

const FANOUT = ["p1", "p2", "p3", "p4", "p5", "p6"];

for (
  const [name, ordersWrites] of [
    ["pipelines the hooks of a store that orders its writes", true],
    ["awaits each hook of a store that does not order its writes", false],
  ] as const
) {
  Deno.test(`\`RunManager\` ${name}, and every transition is persisted in order`, async () => {
    const clock = new FakeClock();
    const sqlite = await SqliteStore.open(":memory:", { now: () => clock.now() });
    const { proxy, stats } = countingStore(sqlite, ordersWrites);
    const spec: Record<string, string[]> = { root: [] };
    for (const id of FANOUT) spec[id] = ["root"];
    spec.join = FANOUT;
    const h = await harness({ spec, store: proxy, clock });
    try {
      const { runId } = await h.manager.submit(null);
      const record = await h.manager.wait(runId);
      assert.equal(record.status, "succeeded");
      if (ordersWrites) assert.ok(stats.maxInFlight > 1, `in flight: ${stats.maxInFlight}`);
      else assert.equal(stats.maxInFlight, 1);
      const stored = await sqlite.getRun(runId);
      assert.equal(stored?.status, "succeeded");
      for (const id of ["root", ...FANOUT, "join"]) {
        assert.equal(stored?.nodes[id]?.status, "succeeded", id);
        // Each node's writes were made running first, then succeeded.
        const own = stats.calls.filter((c) => c.startsWith(`${id}:`));
        assert.deepEqual(own, [`${id}:running`, `${id}:succeeded`]);
      }
      assert.equal(stats.calls.indexOf("join:running") > stats.calls.indexOf("p6:succeeded"), true);
    } finally {
      await h.close();
      await sqlite.close();
    }
  });
}
