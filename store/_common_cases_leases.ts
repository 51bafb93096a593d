/**
 * Shared suite cases about lease fencing (epochs, fenced writes, release, claimable runs) and
 * values the store cannot serialise.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import type { NodeRecord } from "../engine/mod.ts";
import type { StoreCase } from "./_store_case.ts";
import { line, sampleRun } from "./_common_cases_runs.ts";
import { LeaseLostError, UnserializableValueError } from "./errors.ts";

const DONE: NodeRecord = { status: "succeeded", attempts: 1, output: { ok: true } };

export const LEASE_CASES: StoreCase[] = [{
  name:
    "`claimLease()` increments the epoch on every claim; `createRun()` with an owner is epoch 1",
  async fn({ store, clock }) {
    const created = await store.createRun(sampleRun("a", { status: "running" }), {
      owner: "r1",
      leaseMs: 1000,
    });
    assert.deepStrictEqual(created.lease, { owner: "r1", epoch: 1 });
    assert.equal(await store.claimLease("a", "r2", 1000), undefined, "r1's lease is live");
    assert.deepStrictEqual(await store.claimLease("a", "r1", 1000), { owner: "r1", epoch: 2 });
    clock.tick(1000);
    assert.deepStrictEqual(await store.claimLease("a", "r2", 1000), { owner: "r2", epoch: 3 });
    assert.equal(await store.renewLease("a", "r2", 1000, 2), false, "a stale epoch");
    assert.equal(await store.renewLease("a", "r2", 1000, 3), true);
    assert.deepStrictEqual(
      await store.claimLease("a", "r3", 1000, { force: true }),
      { owner: "r3", epoch: 4 },
      "force takes a live lease",
    );
    const plain = await store.createRun(sampleRun("b"));
    assert.equal(plain.lease, undefined);
    await store.updateRun("a", { status: "succeeded" });
    assert.equal(await store.claimLease("a", "r3", 1000, { force: true }), undefined);
  },
}, {
  name:
    "fenced writes of a replica whose lease was taken over throw LeaseLostError and write nothing",
  async fn({ store, clock }) {
    const { lease } = await store.createRun(sampleRun("a", { status: "running" }), {
      owner: "old",
      leaseMs: 1000,
    });
    const old = lease!;
    assert.equal(await store.updateNode("a", "n1", DONE, old), true);
    assert.equal(await store.appendLogs("a", [line("a", "one")], old), true);
    assert.equal(await store.updateRun("a", { status: "running" }, old), true);
    clock.tick(5000); // "old" paused past its lease
    const next = await store.claimLease("a", "new", 1000);
    assert.deepStrictEqual(next, { owner: "new", epoch: 2 });
    await assert.rejects(
      store.updateNode("a", "n2", DONE, old),
      (e: unknown) => e instanceof LeaseLostError && e.runId === "a" && /"old"/.test(e.message),
    );
    await assert.rejects(store.appendLogs("a", [line("a", "two")], old), LeaseLostError);
    await assert.rejects(
      store.updateRun("a", { status: "failed", error: { node: "", message: "x" } }, old),
      LeaseLostError,
    );
    await assert.rejects(store.updateRun("a", {}, old), LeaseLostError);
    assert.equal(await store.renewLease("a", "old", 1000, old.epoch), false);
    const record = await store.getRun("a");
    assert.equal(record?.status, "running");
    assert.deepStrictEqual(Object.keys(record!.nodes), ["n1"]);
    assert.deepStrictEqual((await store.getLogs("a")).map((l) => l.msg), ["one"]);
    // The new owner writes; unfenced writes (a cancel from the CLI) are never refused.
    assert.equal(await store.updateNode("a", "n2", DONE, next), true);
    assert.equal(await store.appendLogs("a", [line("a", "three")], next), true);
    assert.equal(await store.updateRun("a", { status: "cancelled" }), true);
    assert.equal(await store.updateNode("missing", "n", DONE, next), false, "unknown run");
    assert.equal(await store.updateRun("missing", { status: "failed" }, next), false);
    assert.equal(await store.appendLogs("missing", [line("missing", "x")], next), false);
  },
}, {
  name: "`releaseLease()` lets any replica claim at once and fences the releaser",
  async fn({ store }) {
    const { lease } = await store.createRun(sampleRun("a", { status: "running" }), {
      owner: "r1",
      leaseMs: 60_000,
    });
    assert.equal(await store.claimLease("a", "r2", 1000), undefined);
    assert.equal(await store.releaseLease("a", { owner: "r1", epoch: 7 }), false, "stale");
    assert.equal(await store.releaseLease("a", lease!), true);
    assert.equal(await store.releaseLease("a", lease!), false, "already released");
    await assert.rejects(store.updateNode("a", "n", DONE, lease!), LeaseLostError);
    assert.deepStrictEqual(
      (await store.listClaimable({ workflow: "demo" })).map((r) => r.runId),
      ["a"],
    );
    assert.deepStrictEqual(await store.claimLease("a", "r2", 1000), { owner: "r2", epoch: 3 });
  },
}, {
  name: "`listClaimable()` lists unfinished runs without a live lease, oldest first, no nodes",
  async fn({ store, clock }) {
    await store.createRun(sampleRun("q", { nodes: { n: DONE } }));
    await store.createRun(sampleRun("held", { status: "running" }), { owner: "r1", leaseMs: 500 });
    await store.createRun(sampleRun("done", { status: "succeeded" }));
    await store.createRun(sampleRun("other", { workflow: "x" }));
    const first = await store.listClaimable({ workflow: "demo" });
    assert.deepStrictEqual(first.map((r) => r.runId), ["q"]);
    assert.equal("nodes" in first[0]!, false);
    clock.tick(500);
    assert.deepStrictEqual(
      (await store.listClaimable({ workflow: "demo" })).map((r) => r.runId),
      ["q", "held"],
    );
    assert.deepStrictEqual((await store.listClaimable()).map((r) => r.runId), [
      "q",
      "held",
      "other",
    ]);
  },
}, {
  name:
    "values that cannot be stored as JSON are rejected with UnserializableValueError; the store stays usable",
  async fn({ store }) {
    await store.createRun(sampleRun("a", { status: "running" }), { owner: "r1" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: unknown[] = [10n, cyclic, {
      toJSON: () => {
        throw new Error("no JSON");
      },
    }];
    // Issued together (one SQLite group commit), between good writes of the same turn.
    const writes = [
      store.updateNode("a", "before", DONE),
      ...bad.map((output) => store.updateNode("a", "bad", { ...DONE, output })),
      store.updateRun("a", { status: "succeeded", result: { big: 1n } }),
      store.appendLogs("a", [{ ...line("a", "x"), fields: { n: 2n } }]),
      store.updateNode("a", "after", DONE),
    ];
    const settled = await Promise.allSettled(writes);
    assert.deepStrictEqual(settled.map((s) => s.status), [
      "fulfilled",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    for (const s of settled) {
      if (s.status === "rejected") {
        assert.ok(s.reason instanceof UnserializableValueError, String(s.reason));
        assert.ok(s.reason instanceof TypeError);
      }
    }
    const message = (settled[1] as PromiseRejectedResult).reason.message;
    assert.match(
      message,
      /^Cannot update node: the record of node "bad" of run "a" cannot be stored as JSON: /,
    );
    await assert.rejects(
      store.createRun(sampleRun("b", { input: { n: 1n } })),
      UnserializableValueError,
    );
    await assert.rejects(store.setState("k", { n: 1n }), UnserializableValueError);
    await assert.rejects(store.cache.set("k", { output: 1n }, 1000), UnserializableValueError);
    const record = await store.getRun("a");
    assert.equal(record?.status, "running");
    assert.deepStrictEqual(Object.keys(record!.nodes), ["before", "after"]);
    assert.equal(await store.getRun("b"), undefined);
    assert.equal(await store.updateRun("a", { status: "failed" }), true, "still writable");
  },
}];
