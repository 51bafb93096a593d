/**
 * Shared suite cases about durable state (SPEC §9–10): map items, `ctx.step` results, waits
 * and their timers, and lease release.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import type { MapItemRecord } from "../engine/mod.ts";
import type { StoreCase } from "./_store_case.ts";
import { sampleRun } from "./_common_cases_runs.ts";
import { LeaseLostError } from "./errors.ts";

function item(index: number, status: MapItemRecord["status"] = "succeeded"): MapItemRecord {
  return status === "failed"
    ? { index, status, attempts: 2, error: { message: `bad ${index}` } }
    : { index, status, attempts: 1, output: { n: index, text: "ü" } };
}

export const DURABLE_CASES: StoreCase[] = [{
  name: "`putMapItem()` stores element records that `listMapItems()` pages in index order",
  async fn({ store, openAgain }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    assert.equal(await store.putMapItem("missing", "m", item(0)), false);
    // Written out of order, one replaced: pages follow the index.
    for (const i of [4, 0, 3, 1, 2]) {
      assert.equal(await store.putMapItem("a", "m", item(i, i === 3 ? "failed" : "running")), true);
    }
    assert.equal(await store.putMapItem("a", "m", item(2)), true);
    assert.equal(await store.putMapItem("a", "other", item(0)), true);
    const first = await store.listMapItems("a", "m", { limit: 2 });
    assert.deepStrictEqual(first.items, [item(0, "running"), item(1, "running")]);
    assert.equal(first.nextCursor, "2");
    const second = await store.listMapItems("a", "m", { limit: 2, cursor: first.nextCursor });
    assert.deepStrictEqual(second.items, [item(2), item(3, "failed")]);
    const last = await store.listMapItems("a", "m", { limit: 2, cursor: second.nextCursor });
    assert.deepStrictEqual(last, { items: [item(4, "running")], nextCursor: undefined });
    const done = await store.listMapItems("a", "m", { status: ["succeeded", "failed"] });
    assert.deepStrictEqual(done.items.map((i) => i.index), [2, 3]);
    assert.deepStrictEqual(await store.listMapItems("a", "none"), {
      items: [],
      nextCursor: undefined,
    });
    const again = await openAgain();
    assert.equal((await again.listMapItems("a", "m", { limit: 1000 })).items.length, 5);
    await assert.rejects(store.listMapItems("a", "m", { cursor: "x" }), TypeError);
    await assert.rejects(store.listMapItems("a", "m", { limit: 0 }), RangeError);
    await assert.rejects(store.listMapItems("a", "m", { limit: 1001 }), RangeError);
    await assert.rejects(store.putMapItem("a", "m", { ...item(0), index: -1 }), TypeError);
  },
}, {
  name: "`putStep()` keeps the first result of a step, across replicas",
  async fn({ store, openAgain }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    const other = await openAgain();
    assert.equal(await store.getStep("a", "n", "charge"), undefined);
    const results = await Promise.all([
      store.putStep("a", "n", "charge", { id: 1 }),
      other.putStep("a", "n", "charge", { id: 2 }),
    ]);
    assert.deepStrictEqual(results[0], results[1]);
    const stored = await other.getStep("a", "n", "charge");
    assert.deepStrictEqual(stored, results[0]);
    assert.deepStrictEqual(await store.putStep("a", "n", "charge", { id: 3 }), stored);
    assert.deepStrictEqual(await store.putStep("a", "n[2]", "charge", null), { value: null });
    assert.deepStrictEqual(await store.getStep("a", "n[2]", "charge"), { value: null });
    assert.equal(await store.getStep("a", "n", "other"), undefined);
    await assert.rejects(store.putStep("a", "n", "x", undefined), TypeError);
  },
}, {
  name: "`putWait()` keeps the original due time and `listDueWaits()` lists what is due",
  async fn({ store, clock, openAgain }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    await store.createRun(sampleRun("b", { status: "running" }));
    const due = clock.now() + 60_000;
    assert.deepStrictEqual(await store.putWait("a", "nap", { dueAt: due }), {
      runId: "a",
      nodeId: "nap",
      dueAt: due,
    });
    // A restart registers the wait again: the first due time stays.
    const again = await openAgain();
    assert.deepStrictEqual(await again.putWait("a", "nap", { dueAt: due + 99_000 }), {
      runId: "a",
      nodeId: "nap",
      dueAt: due,
    });
    await store.putWait("a", "approve", { event: "approval" });
    await store.putWait("b", "approve", { event: "approval", dueAt: due - 1_000 });
    assert.equal(await store.putWait("missing", "x", { dueAt: 1 }), undefined);
    assert.deepStrictEqual(await store.listDueWaits(clock.now()), []);
    await clock.advance(60_000);
    const listed = await store.listDueWaits(clock.now());
    assert.deepStrictEqual(listed.map((w) => [w.runId, w.nodeId]), [["b", "approve"], [
      "a",
      "nap",
    ]]);
    assert.deepStrictEqual((await store.listDueWaits(clock.now(), 1)).length, 1);
    assert.deepStrictEqual((await store.listWaits("a")).map((w) => w.nodeId), ["approve", "nap"]);
    await assert.rejects(store.putWait("a", "x", {}), TypeError);
  },
}, {
  name: "`resolveWait()` resolves a wait exactly once across replicas and re-queues a parked run",
  async fn({ store, openAgain }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    await store.putWait("a", "approve", { event: "approval", dueAt: 5 });
    await store.updateRun("a", { status: "waiting" });
    const replicas = [store, await openAgain(), await openAgain()];
    const wins = await Promise.all(
      replicas.map((s, i) =>
        i === 0
          ? s.resolveWait("a", "approve", { kind: "event", event: "approval", payload: { ok: 1 } })
          : s.resolveWait("a", "approve", { kind: "due" })
      ),
    );
    assert.equal(wins.filter(Boolean).length, 1, JSON.stringify(wins));
    const [wait] = await store.listWaits("a");
    assert.ok(wait?.resolution);
    assert.equal((await store.getRun("a"))?.status, "queued");
    assert.deepStrictEqual(await store.listDueWaits(10), []);
    assert.equal(await store.resolveWait("a", "approve", { kind: "due" }), false);
    assert.equal(await store.resolveWait("a", "missing", { kind: "due" }), false);
    // A run still running (another branch busy) is not re-queued by a resolution.
    await store.putWait("a", "nap", { dueAt: 1 });
    await store.updateRun("a", { status: "running" });
    assert.equal(await store.resolveWait("a", "nap", { kind: "due" }), true);
    assert.equal((await store.getRun("a"))?.status, "running");
    await assert.rejects(
      store.resolveWait("a", "nap", { kind: "later" } as never),
      TypeError,
    );
  },
}, {
  name:
    "a `waiting` run is listed by status, not resumed or claimable, and not pruned; `releaseLease()` frees it",
  async fn({ store, openAgain }) {
    const { lease } = await store.createRun(sampleRun("a", { status: "running" }), {
      owner: "r1",
    });
    assert.ok(lease);
    await store.updateRun("a", { status: "waiting" }, lease);
    assert.deepStrictEqual(await store.listUnfinished(), []);
    assert.deepStrictEqual(await store.listClaimable(), []);
    assert.deepStrictEqual((await store.listRuns({ status: "waiting" })).runs.map((r) => r.runId), [
      "a",
    ]);
    assert.equal(await store.prune({ maxRuns: 0 }), 0);
    assert.equal(await store.releaseLease("a", { owner: "r2", epoch: lease.epoch }), false);
    assert.equal(await store.releaseLease("a", lease), true);
    await store.updateRun("a", { status: "queued" });
    const other = await openAgain();
    const taken = await other.claimLease("a", "r2", 30_000);
    assert.equal(taken?.owner, "r2");
    assert.ok(taken && taken.epoch > lease.epoch);
    await assert.rejects(store.updateRun("a", { status: "running" }, lease), LeaseLostError);
  },
}, {
  name: "pruning a run deletes its map items, steps and waits",
  async fn({ store }) {
    await store.createRun(sampleRun("a", { status: "succeeded" }));
    await store.putMapItem("a", "m", item(0));
    await store.putStep("a", "n", "s", 1);
    await store.putWait("a", "w", { dueAt: 1 });
    assert.equal(await store.prune({ maxRuns: 0 }), 1);
    await store.createRun(sampleRun("a", { status: "running" }));
    assert.deepStrictEqual((await store.listMapItems("a", "m")).items, []);
    assert.equal(await store.getStep("a", "n", "s"), undefined);
    assert.deepStrictEqual(await store.listWaits("a"), []);
  },
}, {
  name:
    "fenced map items, steps and waits of a replica whose lease was taken over throw LeaseLostError and write nothing",
  async fn({ store, clock, openAgain }) {
    const { lease } = await store.createRun(sampleRun("a", { status: "running" }), {
      owner: "old",
      leaseMs: 1000,
    });
    const old = lease!;
    assert.equal(await store.putMapItem("a", "m", item(0), old), true);
    assert.deepStrictEqual(await store.putStep("a", "n", "s", 1, old), { value: 1 });
    assert.equal((await store.putWait("a", "w", { event: "e" }, old))?.event, "e");
    assert.equal(await store.putMapItem("missing", "m", item(0), old), false);
    assert.equal(await store.putWait("missing", "w", { event: "e" }, old), undefined);
    assert.equal(await store.resolveWait("missing", "w", { kind: "due" }, old), false);
    clock.tick(5000); // "old" paused past its lease
    const other = await openAgain();
    const next = await other.claimLease("a", "new", 1000);
    assert.deepStrictEqual(next, { owner: "new", epoch: 2 });
    const lost = (e: unknown) => e instanceof LeaseLostError && e.runId === "a";
    await assert.rejects(store.putMapItem("a", "m", item(1), old), lost);
    await assert.rejects(store.putMapItem("a", "m", item(0, "failed"), old), lost);
    await assert.rejects(store.putStep("a", "n", "t", 2, old), lost);
    await assert.rejects(store.putStep("a", "n", "s", 3, old), lost, "stored before, still fenced");
    await assert.rejects(store.putWait("a", "v", { dueAt: 5 }, old), lost);
    await assert.rejects(store.resolveWait("a", "w", { kind: "due" }, old), lost);
    assert.deepStrictEqual((await store.listMapItems("a", "m")).items, [item(0)]);
    assert.equal(await store.getStep("a", "n", "t"), undefined);
    assert.deepStrictEqual(await store.listWaits("a"), [{ runId: "a", nodeId: "w", event: "e" }]);
    // The current owner writes; an unfenced resolver (an event, a timer) still resolves.
    assert.equal(await other.putMapItem("a", "m", item(1), next), true);
    assert.deepStrictEqual(await other.putStep("a", "n", "t", 2, next), { value: 2 });
    assert.equal(await other.resolveWait("a", "w", { kind: "due" }, next), true);
    assert.equal(await store.resolveWait("a", "w", { kind: "due" }), false, "resolved once");
    await assert.rejects(
      store.putMapItem("a", "m", item(2), { owner: "", epoch: 1 }),
      TypeError,
    );
  },
}, {
  name: "`requeueParked()` queues a waiting run again, once",
  async fn({ store }) {
    await store.createRun(sampleRun("a", { status: "waiting" }));
    await store.createRun(sampleRun("b", { status: "running" }));
    assert.equal(await store.requeueParked("a"), true);
    assert.equal(await store.requeueParked("a"), false);
    assert.equal((await store.getRun("a"))?.status, "queued");
    assert.equal(await store.requeueParked("b"), false);
    assert.equal((await store.getRun("b"))?.status, "running");
    assert.equal(await store.requeueParked("missing"), false);
  },
}];
