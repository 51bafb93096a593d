import assert from "node:assert/strict";
import { executeRun } from "./execute_run.ts";
import { NodeFailure } from "../errors.ts";
import { dag, FakeClock, testRunner, waitFor } from "../../testing/mod.ts";
import type { LogLine } from "../run_record.ts";

const TIMEOUT = 30_000;
const hang = () => new Promise(() => {});
const backoffs = (clock: FakeClock) => clock.sleeps.filter((ms) => ms !== TIMEOUT);

Deno.test("`executeRun()` aborts an attempt at its timeout with a TimeoutError", async (t) => {
  for (const ignoreAbort of [false, true]) {
    await t.step(
      ignoreAbort ? "runner ignores the abort" : "runner honours the abort",
      async () => {
        const clock = new FakeClock();
        const runner = testRunner({ a: hang }, { ignoreAbort });
        const workflow = dag({ a: [], b: ["a"] }, { nodes: { a: { timeoutMs: 5_000 } } });
        const run = executeRun(workflow, { runner, clock, tmpDir: "/tmp" });
        await clock.waitForSleepers(1);
        await clock.advance(4_999);
        assert.equal(runner.calls[0]!.signal.aborted, false);
        await clock.advance(1);
        const record = await run;
        assert.equal(runner.calls[0]!.signal.reason.name, "TimeoutError");
        assert.equal(record.status, "failed");
        assert.equal(record.nodes.a!.status, "failed");
        assert.equal(record.nodes.a!.error?.name, "TimeoutError");
        assert.match(record.error!.message, /attempt 1 timed out after 5000 ms/);
        assert.equal(record.nodes.b!.status, "skipped");
      },
    );
  }
});

Deno.test("`executeRun()` retries with exponential backoff, jitter and a cap", async (t) => {
  const cases = [
    { random: 0.5, want: [100, 200, 250] },
    { random: 0, want: [80, 160, 200] },
    { random: 0.999, want: [120, 240, 250] },
  ];
  for (const { random, want } of cases) {
    await t.step(`random ${random} sleeps ${want.join(", ")}`, async () => {
      const clock = new FakeClock();
      const attempts: number[] = [];
      const runner = testRunner({
        a: (ctx) => {
          if (ctx.attempt < 4) throw new Error(`fail ${ctx.attempt}`);
          return "ok";
        },
      });
      const workflow = dag({ a: [] }, {
        settings: { backoffMs: 100, maxBackoffMs: 250 },
        nodes: { a: { retries: 3 } },
      });
      const run = executeRun(workflow, {
        runner,
        clock,
        random: () => random,
        tmpDir: "/tmp",
        hooks: {
          // An attempt starts when the history's last entry is a running one (a failed attempt
          // waiting for its retry is reported too, with that attempt ended).
          onNodeUpdate: (_r, _id, node) =>
            void (node.history?.at(-1)?.status === "running" && attempts.push(node.attempts)),
        },
      });
      await clock.advance(1_000);
      const record = await run;
      assert.equal(record.status, "succeeded");
      assert.deepEqual(backoffs(clock), want);
      const history = record.nodes.a!.history!;
      assert.deepEqual(history.map((h) => [h.attempt, h.status, h.error?.message]), [
        [1, "failed", "fail 1"],
        [2, "failed", "fail 2"],
        [3, "failed", "fail 3"],
        [4, "succeeded", undefined],
      ]);
      // Each attempt starts after the previous one ended plus its backoff.
      for (let i = 1; i < history.length; i++) {
        assert.equal(
          Date.parse(history[i]!.startedAt) - Date.parse(history[i - 1]!.finishedAt!),
          want[i - 1],
        );
      }
      assert.equal(record.nodes.a!.attempts, 4);
      assert.equal(record.nodes.a!.error, undefined);
      assert.deepEqual(attempts, [1, 2, 3, 4]);
      assert.deepEqual(runner.calls.map((c) => c.attempt), [1, 2, 3, 4]);
    });
  }
});

Deno.test("`executeRun()` fails a node once its retries are exhausted", async () => {
  const clock = new FakeClock();
  const runner = testRunner({ a: (ctx) => Promise.reject(new Error(`fail ${ctx.attempt}`)) });
  const workflow = dag({ a: [] }, { nodes: { a: { retries: 2 } } });
  const run = executeRun(workflow, { runner, clock, random: () => 0.5, tmpDir: "/tmp" });
  await clock.advance(10_000);
  const record = await run;
  assert.equal(record.nodes.a!.attempts, 3);
  assert.deepEqual(record.error, { node: "a", message: "fail 3" });
  assert.deepEqual(backoffs(clock), [200, 400]);
});

Deno.test("`executeRun()` does not retry a nonRetryable failure", async () => {
  const runner = testRunner({
    a: () => {
      throw new NodeFailure("denied", { kind: "capability", capability: 'net: "x.com"' });
    },
  });
  const workflow = dag({ a: [] }, { nodes: { a: { retries: 5 } } });
  const record = await executeRun(workflow, { runner, tmpDir: "/tmp" });
  assert.equal(record.nodes.a!.attempts, 1);
  assert.deepEqual(record.nodes.a!.error, { message: "denied", capability: 'net: "x.com"' });
});

Deno.test("`executeRun()` fails fast: aborts running siblings and starts nothing new", async (t) => {
  for (const ignoreAbort of [false, true]) {
    await t.step(ignoreAbort ? "sibling ignores the abort" : "sibling honours it", async () => {
      let failA!: () => void;
      const runner = testRunner({
        a: () => new Promise((_, reject) => failA = () => reject(new Error("a broke"))),
        b: hang,
      }, { ignoreAbort });
      const workflow = dag({ a: [], b: [], c: ["a"], d: ["b"], e: [] }, {
        settings: { maxParallel: 2 },
      });
      const run = executeRun(workflow, { runner, tmpDir: "/tmp" });
      await waitFor(() => runner.running.size === 2, "a and b running");
      failA();
      const record = await run;
      assert.equal(record.status, "failed");
      assert.deepEqual(record.error, { node: "a", message: "a broke" });
      const b = runner.calls.find((c) => c.node === "b")!;
      assert.equal(b.signal.aborted, true);
      const status = Object.fromEntries(
        Object.entries(record.nodes).map(([k, v]) => [k, v.status]),
      );
      assert.deepEqual(status, {
        a: "failed",
        b: "cancelled",
        c: "skipped",
        d: "skipped",
        e: "skipped",
      });
      assert.match(record.nodes.b!.error!.message, /the run failed at node "a"/);
      assert.deepEqual(runner.calls.map((c) => c.node), ["a", "b"]);
    });
  }
});

Deno.test("`executeRun()` with failFast false finishes independent branches", async () => {
  const runner = testRunner({
    a: () => {
      throw new Error("a broke");
    },
  });
  const workflow = dag({ a: [], b: ["a"], c: [], d: ["c"], e: ["b", "d"], f: ["d", "a"] }, {
    settings: { failFast: false },
  });
  const record = await executeRun(workflow, { runner, tmpDir: "/tmp" });
  const status = Object.fromEntries(Object.entries(record.nodes).map(([k, v]) => [k, v.status]));
  assert.deepEqual(status, {
    a: "failed",
    b: "skipped",
    c: "succeeded",
    d: "succeeded",
    e: "skipped",
    f: "skipped",
  });
  assert.equal(record.status, "failed");
  assert.deepEqual(record.error, { node: "a", message: "a broke" });
  assert.equal(record.result, undefined);
});

Deno.test("`executeRun()` lets an allowFailure node fail without failing the run", async () => {
  const runner = testRunner({
    a: () => {
      throw new Error("flaky api");
    },
  }, { fallback: (_ctx, input) => input });
  const workflow = dag({ a: [], b: ["a"] }, { nodes: { a: { allowFailure: true } } });
  const record = await executeRun(workflow, { runner, tmpDir: "/tmp" });
  assert.equal(record.status, "succeeded");
  assert.equal(record.nodes.a!.status, "failed");
  assert.equal(record.nodes.a!.error?.message, "flaky api");
  assert.deepEqual(record.result, { error: { message: "flaky api" } });
});

Deno.test("`executeRun()` runs the onError node once with the failure", async (t) => {
  for (const onErrorFails of [false, true]) {
    await t.step(onErrorFails ? "onError fails too" : "onError succeeds", async () => {
      const lines: LogLine[] = [];
      const runner = testRunner({
        b: () => {
          throw new Error("b broke");
        },
        notify: (_ctx, input) => {
          if (onErrorFails) throw new Error("notify broke");
          return input;
        },
      });
      const workflow = dag({ a: [], b: ["a"] }, { onError: "notify" });
      const record = await executeRun(workflow, {
        runner,
        runId: "run-1",
        input: { x: 1 },
        tmpDir: "/tmp",
        hooks: { onLog: (line) => void lines.push(line) },
      });
      assert.equal(record.status, "failed");
      assert.deepEqual(record.error, { node: "b", message: "b broke" });
      const calls = runner.calls.filter((c) => c.node === "notify");
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0]!.input, {
        runId: "run-1",
        failedNode: "b",
        error: { message: "b broke" },
        input: { x: 1 },
      });
      assert.equal(record.nodes.notify!.status, onErrorFails ? "failed" : "succeeded");
      assert.equal(lines.some((l) => l.msg.includes("notify broke")), onErrorFails);
    });
  }
  await t.step("not on success", async () => {
    const runner = testRunner({});
    const record = await executeRun(dag({ a: [] }, { onError: "notify" }), {
      runner,
      tmpDir: "/tmp",
    });
    assert.equal(record.nodes.notify, undefined);
    assert.deepEqual(runner.calls.map((c) => c.node), ["a"]);
  });
});

Deno.test("`executeRun()` cancels a run when its signal aborts", async (t) => {
  await t.step("while a node runs", async () => {
    const controller = new AbortController();
    const runner = testRunner({ a: hang });
    const run = executeRun(dag({ a: [], b: ["a"] }), {
      runner,
      signal: controller.signal,
      tmpDir: "/tmp",
    });
    await waitFor(() => runner.running.size === 1, "a running");
    controller.abort(new Error("user cancel"));
    const record = await run;
    assert.equal(record.status, "cancelled");
    assert.equal(record.nodes.a!.status, "cancelled");
    assert.equal(record.nodes.b!.status, "skipped");
    assert.equal(runner.calls[0]!.signal.reason.message, "user cancel");
  });
  await t.step("during a retry backoff", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const runner = testRunner({ a: () => Promise.reject(new Error("nope")) });
    const workflow = dag({ a: [] }, { nodes: { a: { retries: 3, timeoutMs: 0 } } });
    const run = executeRun(workflow, { runner, clock, signal: controller.signal, tmpDir: "/tmp" });
    await clock.waitForSleepers(1);
    controller.abort();
    const record = await run;
    assert.equal(record.status, "cancelled");
    assert.equal(record.nodes.a!.status, "cancelled");
    assert.equal(record.nodes.a!.attempts, 1);
  });
  await t.step("before it starts", async () => {
    const runner = testRunner({});
    const record = await executeRun(dag({ a: [] }), {
      runner,
      signal: AbortSignal.abort(),
      tmpDir: "/tmp",
    });
    assert.equal(record.status, "cancelled");
    assert.equal(record.nodes.a!.status, "skipped");
    assert.equal(runner.calls.length, 0);
  });
});
