/**
 * Shared suite cases about run records: create/get, idempotency, listing, updates, resume and
 * leases.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import type { LogLine, RunRecord, RunStatus } from "../engine/mod.ts";
import type { StoreCase } from "./_store_case.ts";
import type { RunStore } from "./run_store.ts";

/** A small valid run record. */
export function sampleRun(runId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    workflow: "demo",
    version: "1.0.0",
    status: "queued",
    input: { n: 1 },
    nodes: {},
    ...overrides,
  };
}

const RICH_RECORD: RunRecord = {
  runId: "run-ü-1",
  workflow: "demo",
  version: "1.2.3",
  status: "failed",
  input: {
    text: "héllo 世界 🚀",
    control: "tab\tnul\u0000end",
    lone: "\ud800",
    list: [1, 2.5, null, true, { deep: { deeper: [[]] } }],
    big: 1e300,
  },
  result: { "ü-sink": [{ ok: false }] },
  error: { node: "ü-node", message: 'boom ❌ "quoted"' },
  startedAt: "2025-01-01T00:00:00.000Z",
  finishedAt: "2025-01-01T00:00:00.012Z",
  durationMs: 12.5,
  trigger: "manual",
  codeHash: "c0ffee",
  nodes: {
    "fetch": {
      status: "succeeded",
      attempts: 1,
      durationMs: 3,
      startedAt: "2025-01-01T00:00:00.001Z",
      finishedAt: "2025-01-01T00:00:00.004Z",
      output: { rows: [{ id: 1, name: "Zoë" }, { id: 2, tags: ["a", "b"] }], empty: {} },
      cached: true,
      progress: { value: 1, message: "done ✓" },
    },
    "ü-node": {
      status: "failed",
      attempts: 2,
      error: { message: "denied", name: "PermissionDenied", capability: "net: api.x.com" },
    },
    "after": { status: "skipped", attempts: 0 },
  },
};

export const RUN_CASES: StoreCase[] = [{
  name: "`createRun()` and `getRun()` round-trip a record with nested outputs and unicode",
  async fn({ store }) {
    const input = structuredClone(RICH_RECORD);
    const { record, created } = await store.createRun(input);
    assert.equal(created, true);
    assert.deepStrictEqual(record, RICH_RECORD);
    input.nodes.fetch!.output = "mutated after create";
    const stored = await store.getRun(RICH_RECORD.runId);
    assert.deepStrictEqual(stored, RICH_RECORD);
    assert.deepStrictEqual(Object.keys(stored!.nodes), ["fetch", "ü-node", "after"]);
  },
}, {
  name: "`createRun()` rejects malformed records and duplicate run ids with TypeError",
  async fn({ store }) {
    const bad: [string, unknown][] = [
      ["empty runId", sampleRun("")],
      ["missing workflow", { ...sampleRun("a"), workflow: undefined }],
      ["unknown status", sampleRun("a", { status: "done" as RunStatus })],
      ["nodes not an object", { ...sampleRun("a"), nodes: "x" }],
    ];
    for (const [what, record] of bad) {
      await assert.rejects(store.createRun(record as RunRecord), TypeError, what);
    }
    await store.createRun(sampleRun("a"));
    await assert.rejects(store.createRun(sampleRun("a")), /run id "a" already exists/);
    await assert.rejects(store.createRun(sampleRun("b"), { idempotencyKey: "" }), TypeError);
    assert.deepStrictEqual((await store.listRuns()).runs.map((r) => r.runId), ["a"]);
  },
}, {
  name: "unknown run ids give undefined, [] or false instead of throwing",
  async fn({ store }) {
    assert.equal(await store.getRun("nope"), undefined);
    assert.equal(await store.updateRun("nope", { status: "failed" }), false);
    assert.equal(await store.updateRun("nope", {}), false);
    assert.equal(await store.updateNode("nope", "a", { status: "running", attempts: 1 }), false);
    assert.equal(await store.appendLogs("nope", [line("nope", "x")]), false);
    assert.equal(await store.appendLogs("nope", []), false);
    assert.deepStrictEqual(await store.getLogs("nope"), []);
    assert.equal(await store.claimRun("nope", "me", 1000), false);
    assert.equal(await store.renewLease("nope", "me", 1000), false);
    assert.deepStrictEqual(await store.listUnfinished(), []);
    assert.deepStrictEqual(await store.listRuns(), { runs: [], nextCursor: undefined });
  },
}, {
  name: "`createRun()` returns the existing run for a repeated idempotency key within 24 h",
  async fn({ store, clock }) {
    const first = await store.createRun(sampleRun("a"), { idempotencyKey: "k1" });
    assert.equal(first.created, true);
    await store.updateRun("a", { status: "succeeded" });
    clock.tick(24 * 3600_000 - 1);
    const again = await store.createRun(sampleRun("b", { input: 2 }), { idempotencyKey: "k1" });
    assert.equal(again.created, false);
    assert.deepStrictEqual(again.record, { ...sampleRun("a"), status: "succeeded" });
    assert.equal(await store.getRun("b"), undefined);
    const other = await store.createRun(sampleRun("c"), { idempotencyKey: "k2" });
    assert.equal(other.created, true);
    const otherWorkflow = await store.createRun(sampleRun("d", { workflow: "other" }), {
      idempotencyKey: "k1",
    });
    assert.equal(otherWorkflow.created, true, "keys are scoped per workflow");
    clock.tick(1);
    const expired = await store.createRun(sampleRun("e"), { idempotencyKey: "k1" });
    assert.equal(expired.created, true, "a key older than 24 h starts a new run");
    const repeat = await store.createRun(sampleRun("f"), { idempotencyKey: "k1" });
    assert.equal(repeat.record.runId, "e");
  },
}, {
  name: "concurrent `createRun()` calls with one idempotency key create exactly one run",
  async fn({ store, openAgain }) {
    const stores = [store, await openAgain(), await openAgain(), await openAgain()];
    const results = await Promise.all(
      Array.from(
        { length: 16 },
        (_, i) =>
          stores[i % stores.length]!.createRun(sampleRun(`run-${i}`), { idempotencyKey: "same" }),
      ),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    const winner = results.find((r) => r.created)!.record.runId;
    assert.ok(results.every((r) => r.record.runId === winner));
    assert.deepStrictEqual((await store.listRuns()).runs.map((r) => r.runId), [winner]);
  },
}, {
  name: "`listRuns()` pages newest first with a stable cursor and filters by status and workflow",
  async fn({ store }) {
    const statuses: RunStatus[] = ["succeeded", "failed", "running", "queued", "cancelled"];
    for (let i = 0; i < 25; i++) {
      await store.createRun(
        sampleRun(`r${i}`, { status: statuses[i % 5]!, workflow: i % 2 ? "odd" : "even" }),
      );
    }
    const first = await store.listRuns({ limit: 10 });
    assert.deepStrictEqual(first.runs.map((r) => r.runId), ids(24, 15));
    assert.ok(first.runs.every((r) => !("nodes" in r)));
    await store.createRun(sampleRun("later", { workflow: "late", status: "succeeded" }));
    const second = await store.listRuns({ limit: 10, cursor: first.nextCursor });
    assert.deepStrictEqual(second.runs.map((r) => r.runId), ids(14, 5));
    const last = await store.listRuns({ limit: 10, cursor: second.nextCursor });
    assert.deepStrictEqual(last.runs.map((r) => r.runId), ids(4, 0));
    assert.equal(last.nextCursor, undefined);
    const table: [Parameters<RunStore["listRuns"]>[0], string[]][] = [
      [{ status: "failed" }, ["r21", "r16", "r11", "r6", "r1"]],
      [{ status: ["queued", "running"], limit: 4 }, ["r23", "r22", "r18", "r17"]],
      [{ workflow: "odd", limit: 3 }, ["r23", "r21", "r19"]],
      [{ workflow: "even", status: "succeeded" }, ["r20", "r10", "r0"]],
      [{ workflow: "none" }, []],
    ];
    for (const [options, expected] of table) {
      const page = await store.listRuns(options);
      assert.deepStrictEqual(page.runs.map((r) => r.runId), expected, JSON.stringify(options));
    }
    await assert.rejects(store.listRuns({ limit: 0 }), RangeError);
    await assert.rejects(store.listRuns({ limit: 1001 }), RangeError);
    await assert.rejects(store.listRuns({ cursor: "abc" }), TypeError);
    await assert.rejects(store.listRuns({ status: "done" as RunStatus }), TypeError);
  },
}, {
  name: "`listRuns()` filters by run id prefix and creation time, and pages within the filter",
  async fn({ store, clock }) {
    const start = clock.now();
    for (let i = 0; i < 12; i++) {
      await store.createRun(
        sampleRun(`${i % 2 ? "ab" : "cd"}-${i}`, { status: i % 3 ? "succeeded" : "failed" }),
      );
      await clock.advance(1_000);
    }
    const ids = async (options: Parameters<RunStore["listRuns"]>[0]) =>
      (await store.listRuns(options)).runs.map((r) => r.runId);
    assert.deepStrictEqual(await ids({ runIdPrefix: "ab-1" }), ["ab-11", "ab-1"]);
    assert.deepStrictEqual(await ids({ runIdPrefix: "ab-11" }), ["ab-11"]);
    assert.deepStrictEqual(await ids({ runIdPrefix: "AB" }), []);
    // "%" and "_" are plain characters, not patterns.
    assert.deepStrictEqual(await ids({ runIdPrefix: "a%" }), []);
    assert.deepStrictEqual(await ids({ runIdPrefix: "_" }), []);
    assert.deepStrictEqual(await ids({ createdFrom: start + 9_000 }), ["ab-11", "cd-10", "ab-9"]);
    assert.deepStrictEqual(await ids({ createdBefore: start + 2_000 }), ["ab-1", "cd-0"]);
    assert.deepStrictEqual(
      await ids({ createdFrom: start + 2_000, createdBefore: start + 8_000, status: "failed" }),
      ["cd-6", "ab-3"],
    );
    const page1 = await store.listRuns({ runIdPrefix: "cd", createdFrom: start + 1, limit: 2 });
    assert.deepStrictEqual(page1.runs.map((r) => r.runId), ["cd-10", "cd-8"]);
    const page2 = await store.listRuns({
      runIdPrefix: "cd",
      createdFrom: start + 1,
      limit: 2,
      cursor: page1.nextCursor,
    });
    assert.deepStrictEqual(page2.runs.map((r) => r.runId), ["cd-6", "cd-4"]);
    const page3 = await store.listRuns({
      runIdPrefix: "cd",
      createdFrom: start + 1,
      limit: 2,
      cursor: page2.nextCursor,
    });
    assert.deepStrictEqual(page3.runs.map((r) => r.runId), ["cd-2"]);
    assert.equal(page3.nextCursor, undefined);
    await assert.rejects(store.listRuns({ runIdPrefix: "" }), TypeError);
    await assert.rejects(store.listRuns({ createdFrom: 1.5 }), RangeError);
  },
}, {
  name: "`listRuns()` pages through 10,000 runs by status without gaps or repeats",
  async fn({ store }) {
    const total = 10_000;
    for (let batch = 0; batch < total; batch += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => {
        const n = batch + i;
        return store.createRun(sampleRun(`bulk-${n}`, { status: n % 4 ? "succeeded" : "failed" }));
      }));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    const started = performance.now();
    do {
      const page = await store.listRuns({ status: "failed", limit: 500, cursor });
      seen.push(...page.runs.map((r) => r.runId));
      cursor = page.nextCursor;
    } while (cursor);
    const elapsed = performance.now() - started;
    console.log(`    listed ${seen.length} of ${total} runs in 5 pages: ${elapsed.toFixed(1)} ms`);
    assert.equal(seen.length, total / 4);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.every((id) => Number(id.slice(5)) % 4 === 0));
  },
}, {
  name: "`updateRun()` writes only the given fields and clears fields set to undefined",
  async fn({ store }) {
    await store.createRun(sampleRun("a", { error: { node: "x", message: "old" } }));
    assert.equal(
      await store.updateRun("a", {
        status: "succeeded",
        result: null,
        startedAt: "2025-01-01T00:00:00.000Z",
        finishedAt: "2025-01-01T00:00:01.000Z",
        durationMs: 1000,
        error: undefined,
      }),
      true,
    );
    const expected = {
      ...sampleRun("a"),
      status: "succeeded" as const,
      result: null,
      startedAt: "2025-01-01T00:00:00.000Z",
      finishedAt: "2025-01-01T00:00:01.000Z",
      durationMs: 1000,
    };
    assert.deepStrictEqual(await store.getRun("a"), expected);
    assert.equal(await store.updateRun("a", { result: { total: 3 } }), true);
    assert.deepStrictEqual(await store.getRun("a"), { ...expected, result: { total: 3 } });
    assert.equal(await store.updateRun("a", {}), true);
    await assert.rejects(store.updateRun("a", { status: "bogus" as RunStatus }), TypeError);
  },
}, {
  name: "`updateNode()` persists each transition in call order and keeps first-seen node order",
  async fn({ store, openAgain }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    assert.equal(await store.updateNode("a", "z", { status: "pending", attempts: 0 }), true);
    await store.updateNode("a", "m", { status: "running", attempts: 1 });
    const other = await openAgain();
    assert.deepStrictEqual((await other.getRun("a"))!.nodes.m, { status: "running", attempts: 1 });
    // Not awaited one by one (a hook may fire and forget): still applied in call order.
    const done = { status: "succeeded" as const, attempts: 30, output: { list: [1, { a: "ß" }] } };
    const writes = Array.from(
      { length: 30 },
      (_, i) =>
        store.updateNode("a", "z", { status: "running", attempts: i + 1, progress: { value: i } }),
    );
    writes.push(store.updateRun("a", { status: "succeeded" }), store.updateNode("a", "z", done));
    assert.ok((await Promise.all(writes)).every(Boolean));
    const run = await other.getRun("a");
    assert.equal(run!.status, "succeeded");
    assert.deepStrictEqual(run!.nodes, { z: done, m: { status: "running", attempts: 1 } });
    assert.deepStrictEqual(Object.keys(run!.nodes), ["z", "m"]);
    await assert.rejects(store.updateNode("a", "", done), TypeError);
  },
}, {
  name: "`listUnfinished()` returns queued and running runs oldest first with their nodes",
  async fn({ store }) {
    await store.createRun(sampleRun("q1"));
    await store.createRun(sampleRun("r1", { status: "running" }));
    await store.createRun(sampleRun("done", { status: "succeeded" }));
    await store.createRun(sampleRun("x", { status: "running", workflow: "other" }));
    await store.updateNode("r1", "a", { status: "succeeded", attempts: 1, output: 42 });
    const unfinished = await store.listUnfinished();
    assert.deepStrictEqual(unfinished.map((r) => r.runId), ["q1", "r1", "x"]);
    assert.deepStrictEqual(unfinished[1]!.nodes, {
      a: { status: "succeeded", attempts: 1, output: 42 },
    });
    const mine = await store.listUnfinished({ workflow: "demo" });
    assert.deepStrictEqual(mine.map((r) => r.runId), ["q1", "r1"]);
    await store.updateRun("r1", { status: "cancelled" });
    assert.deepStrictEqual((await store.listUnfinished()).map((r) => r.runId), ["q1", "x"]);
  },
}, {
  name: "`claimRun()` gives an unfinished run to one owner until its lease expires",
  async fn({ store, clock }) {
    await store.createRun(sampleRun("a", { status: "running" }));
    assert.equal(await store.claimRun("a", "replica-1", 10_000), true);
    assert.equal(await store.claimRun("a", "replica-2", 10_000), false);
    assert.equal(await store.renewLease("a", "replica-2", 10_000), false);
    clock.tick(9_999);
    assert.equal(await store.renewLease("a", "replica-1", 10_000), true);
    clock.tick(9_999);
    assert.equal(await store.claimRun("a", "replica-2", 10_000), false, "the lease was renewed");
    clock.tick(1);
    assert.equal(await store.claimRun("a", "replica-2", 10_000), true, "the lease expired");
    assert.equal(await store.renewLease("a", "replica-1", 10_000), false);
    assert.equal(await store.claimRun("a", "replica-2", 5_000), true, "re-claiming renews");
    await store.updateRun("a", { status: "succeeded" });
    assert.equal(await store.claimRun("a", "replica-2", 5_000), false, "finished runs stay put");
    assert.equal(await store.renewLease("a", "replica-2", 5_000), false);
    await assert.rejects(store.claimRun("a", "replica-2", 0), RangeError);
    await assert.rejects(store.claimRun("a", "", 1000), TypeError);
  },
}, {
  name: "`createRun()` with an owner creates the run already claimed",
  async fn({ store, clock }) {
    await store.createRun(sampleRun("a"), { owner: "replica-1", leaseMs: 1000 });
    assert.equal(await store.claimRun("a", "replica-2", 1000), false);
    clock.tick(1000);
    assert.equal(await store.claimRun("a", "replica-2", 1000), true);
  },
}];

function ids(from: number, to: number): string[] {
  const list: string[] = [];
  for (let i = from; i >= to; i--) list.push(`r${i}`);
  return list;
}

/** A log line of a run (of one node when `node` is given). */
export function line(runId: string, msg: string, node?: string): LogLine {
  const log: LogLine = { ts: "2025-01-01T00:00:00.000Z", level: "info", msg, runId };
  return node === undefined ? log : { ...log, node, attempt: 1, fields: { k: [msg] } };
}
