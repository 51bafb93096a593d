import assert from "node:assert/strict";
import { harness } from "./testdata/manager_harness.ts";

for (
  const [what, output] of [
    ["a BigInt", { n: 1n }],
    [
      "a cycle",
      (() => {
        const cyclic: Record<string, unknown> = { a: 1 };
        cyclic.self = cyclic;
        return cyclic;
      })(),
    ],
  ] as const
) {
  Deno.test(`\`RunManager\` fails the attempt, never the store, on a node output with ${what}`, async () => {
    const h = await harness({
      spec: { a: [], b: ["a"] },
      fns: { a: (_ctx, input) => (input as { bad?: boolean })?.bad ? output : "fine" },
    });
    try {
      const { runId } = await h.manager.submit({ bad: true });
      const record = await h.manager.wait(runId);
      assert.equal(record.status, "failed");
      assert.equal(record.error?.node, "a");
      assert.match(
        record.error!.message,
        // The executor refuses the output before it reaches the store (the store's own check,
        // UnserializableValueError, is the backstop tested by the shared store suite).
        /^Cannot store the output of node "a": it is not JSON data \(.+\); return plain JSON data$/,
      );
      const stored = await h.store.getRun(runId);
      assert.equal(stored?.status, "failed", "never left running");
      assert.equal(stored?.nodes.a?.status, "failed");
      assert.equal(stored?.nodes.a?.output, undefined);
      // The child may have started before the failure was known; it was stopped, never stored
      // as done.
      assert.ok([undefined, "cancelled", "skipped"].includes(stored?.nodes.b?.status));
      assert.deepEqual(await h.store.listUnfinished(), [], "nothing is left to resume");
      // The store and the manager carry on.
      const next = await h.manager.runAndWait({ bad: false });
      assert.equal(next.status, "succeeded");
      assert.equal((await h.store.getRun(next.runId))?.nodes.a?.output, "fine");
    } finally {
      await h.close();
    }
  });
}
