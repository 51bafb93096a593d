/**
 * Shared suite cases about what hangs off runs and the store itself: logs, the node output
 * cache, retention, engine state, persistence across reopening and closing.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import type { StoreCase } from "./_store_case.ts";
import { line, sampleRun } from "./_common_cases_runs.ts";

const MINUTE = 60_000;

export const DATA_CASES: StoreCase[] = [{
  name: "`appendLogs()` numbers lines per run and `getLogs()` filters by node, afterSeq and limit",
  async fn({ store }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    await store.createRun(sampleRun("b", { status: "running" }));
    assert.equal(await store.appendLogs("a", [line("a", "one"), line("a", "two", "fetch")]), true);
    assert.equal(await store.appendLogs("b", [line("b", "other")]), true);
    assert.equal(
      await store.appendLogs("a", [line("a", "three", "fetch"), line("a", "four")]),
      true,
    );
    const all = await store.getLogs("a");
    assert.deepStrictEqual(all, [
      { ...line("a", "one"), seq: 1 },
      { ...line("a", "two", "fetch"), seq: 2 },
      { ...line("a", "three", "fetch"), seq: 3 },
      { ...line("a", "four"), seq: 4 },
    ]);
    assert.deepStrictEqual(await store.getLogs("b"), [{ ...line("b", "other"), seq: 1 }]);
    const table: [Parameters<typeof store.getLogs>[1], number[]][] = [
      [{ afterSeq: 2 }, [3, 4]],
      [{ afterSeq: 4 }, []],
      [{ node: "fetch" }, [2, 3]],
      [{ node: "fetch", afterSeq: 2 }, [3]],
      [{ limit: 3 }, [1, 2, 3]],
      [{ afterSeq: 1, limit: 2 }, [2, 3]],
      [{ node: "missing" }, []],
    ];
    for (const [options, seqs] of table) {
      const got = await store.getLogs("a", options);
      assert.deepStrictEqual(got.map((l) => l.seq), seqs, JSON.stringify(options));
    }
    await assert.rejects(store.getLogs("a", { afterSeq: -1 }), RangeError);
    await assert.rejects(store.getLogs("a", { limit: 0 }), RangeError);
  },
}, {
  name: "concurrent `appendLogs()` calls get contiguous, gap-free sequence numbers",
  async fn({ store, openAgain }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    const other = await openAgain();
    await Promise.all(
      Array.from({ length: 20 }, (_, batch) =>
        (batch % 2 ? other : store).appendLogs(
          "a",
          Array.from({ length: 5 }, (_, i) => line("a", `${batch}.${i}`)),
        )),
    );
    const logs = await store.getLogs("a");
    assert.deepStrictEqual(logs.map((l) => l.seq), Array.from({ length: 100 }, (_, i) => i + 1));
    for (let start = 0; start < 100; start += 5) {
      const batch = logs[start]!.msg.split(".")[0];
      const msgs = logs.slice(start, start + 5).map((l) => l.msg);
      assert.deepStrictEqual(msgs, [0, 1, 2, 3, 4].map((i) => `${batch}.${i}`));
    }
  },
}, {
  name: "`cache` returns an entry until its ttl passes",
  async fn({ store, clock }) {
    const value = { output: { rows: [1, 2], note: "ü" }, routes: ["b"] };
    assert.equal(await store.cache.get("k"), undefined);
    await store.cache.set("k", value, 10 * MINUTE);
    assert.deepStrictEqual(await store.cache.get("k"), value);
    clock.tick(10 * MINUTE - 1);
    assert.deepStrictEqual(await store.cache.get("k"), value);
    clock.tick(1);
    assert.equal(await store.cache.get("k"), undefined);
    await store.cache.set("k", { output: null }, MINUTE);
    assert.deepStrictEqual(await store.cache.get("k"), { output: null });
    await assert.rejects(store.cache.set("k", value, 0), RangeError);
    await assert.rejects(store.cache.set("k", value, Number.NaN), RangeError);
    await assert.rejects(store.cache.get(""), TypeError);
  },
}, {
  name: "`prune()` keeps the newest maxRuns finished runs and never prunes unfinished ones",
  async fn({ store }) {
    await store.createRun(sampleRun("old-running", { status: "running" }));
    await store.createRun(sampleRun("old-queued"));
    for (let i = 0; i < 10; i++) {
      await store.createRun(sampleRun(`f${i}`, { status: i % 2 ? "failed" : "succeeded" }), {
        idempotencyKey: `key-${i}`,
      });
      await store.updateNode(`f${i}`, "a", { status: "succeeded", attempts: 1 });
      await store.appendLogs(`f${i}`, [line(`f${i}`, "hello", "a")]);
    }
    await store.createRun(sampleRun("other-1", { workflow: "other", status: "succeeded" }));
    assert.equal(await store.prune({ maxRuns: 3, workflow: "demo" }), 7);
    const left = (await store.listRuns()).runs.map((r) => r.runId);
    assert.deepStrictEqual(left, ["other-1", "f9", "f8", "f7", "old-queued", "old-running"]);
    assert.equal(await store.getRun("f0"), undefined);
    assert.deepStrictEqual(await store.getLogs("f0"), []);
    const again = await store.createRun(sampleRun("f0-again"), { idempotencyKey: "key-0" });
    assert.equal(again.created, true, "a pruned run's idempotency key is released");
    assert.equal(await store.prune({ maxRuns: 0 }), 4);
    assert.deepStrictEqual(
      (await store.listRuns()).runs.map((r) => r.runId),
      ["f0-again", "old-queued", "old-running"],
    );
    assert.equal(await store.prune({}), 0);
    await assert.rejects(store.prune({ maxRuns: -1 }), RangeError);
    await assert.rejects(store.prune({ maxAgeMs: 0 }), RangeError);
  },
}, {
  name: "`prune()` deletes finished runs older than maxAgeMs",
  async fn({ store, clock }) {
    await store.createRun(sampleRun("old-ok", { status: "succeeded" }));
    await store.createRun(sampleRun("old-failed", { status: "failed" }));
    await store.createRun(sampleRun("old-running", { status: "running" }));
    clock.tick(10 * MINUTE);
    await store.createRun(sampleRun("new-ok", { status: "succeeded" }));
    assert.equal(await store.prune({ maxAgeMs: 10 * MINUTE }), 0, "exactly maxAge is kept");
    clock.tick(1);
    assert.equal(await store.prune({ maxAgeMs: 10 * MINUTE }), 2);
    const left = (await store.listRuns()).runs.map((r) => r.runId);
    assert.deepStrictEqual(left, ["new-ok", "old-running"]);
  },
}, {
  name: "`setStateIf()` is a compare-and-set that exactly one concurrent caller wins",
  async fn({ store, openAgain }) {
    assert.equal(await store.getState("cron:a"), undefined);
    assert.equal(await store.setStateIf("cron:a", undefined, 100), true);
    assert.equal(await store.setStateIf("cron:a", undefined, 200), false, "key already exists");
    assert.equal(await store.setStateIf("cron:a", 100, 200), true);
    assert.equal(await store.setStateIf("cron:a", 100, 300), false, "stale expectation");
    assert.equal(await store.getState("cron:a"), 200);
    const value = { last: "2025-01-01T09:00:00.000Z", fired: [1, 2], nested: { ü: null } };
    await store.setState("obj", value);
    assert.deepStrictEqual(await store.getState("obj"), value);
    assert.equal(await store.setStateIf("obj", await store.getState("obj"), "next"), true);
    const others = [store, await openAgain(), await openAgain()];
    const wins = await Promise.all(
      Array.from({ length: 12 }, (_, i) => others[i % 3]!.setStateIf("cron:a", 200, 1000 + i)),
    );
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal(await store.getState("cron:a"), 1000 + wins.indexOf(true));
    await assert.rejects(store.setState("k", undefined), TypeError);
    await assert.rejects(store.getState(""), TypeError);
  },
}, {
  name: "a store opened again on the same data sees everything written before close",
  async fn({ store, openAgain }) {
    await store.createRun(sampleRun("a", { status: "running" }), { idempotencyKey: "k" });
    await store.updateNode("a", "n", { status: "succeeded", attempts: 1, output: { x: [1] } });
    await store.appendLogs("a", [line("a", "hi", "n")]);
    await store.setState("s", { v: 1 });
    await store.cache.set("c", { output: "cached" }, MINUTE);
    const expected = await store.getRun("a");
    await store.close();
    const reopened = await openAgain();
    assert.deepStrictEqual(await reopened.getRun("a"), expected);
    assert.deepStrictEqual(await reopened.getLogs("a"), [{ ...line("a", "hi", "n"), seq: 1 }]);
    assert.deepStrictEqual(await reopened.getState("s"), { v: 1 });
    assert.deepStrictEqual(await reopened.cache.get("c"), { output: "cached" });
    const repeat = await reopened.createRun(sampleRun("b"), { idempotencyKey: "k" });
    assert.equal(repeat.record.runId, "a");
    await reopened.close();
    const third = await openAgain();
    assert.deepStrictEqual((await third.listRuns()).runs.map((r) => r.runId), ["a"]);
  },
}, {
  name: "a closed store rejects calls with TypeError and closing twice is harmless",
  async fn({ store }) {
    await store.close();
    await store.close();
    await assert.rejects(store.getRun("a"), TypeError);
    await assert.rejects(store.updateNode("a", "n", { status: "running", attempts: 1 }), TypeError);
  },
}];
