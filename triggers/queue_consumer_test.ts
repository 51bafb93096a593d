import assert from "node:assert/strict";
import { FakeClock } from "../testing/mod.ts";
import { natsTest } from "./testdata/nats_testing.ts";
import { TriggerMetrics } from "./_metrics.ts";
import { listDeadLetters } from "./dead_letter.ts";
import { type QueueConsumerOptions, startQueueConsumer } from "./queue_consumer.ts";
import { deferred, type QueueHarness, queueHarness, waitFor } from "./testdata/queue_harness.ts";

const ACKED = "pipedreamer_queue_messages_acked_total";
const NAKED = "pipedreamer_queue_messages_naked_total";
const DEAD = "pipedreamer_queue_messages_dead_lettered_total";
const RECEIVED = "pipedreamer_queue_messages_received_total";

/** Starts the harness's trigger with fast test settings. */
async function consume(h: QueueHarness, options: Partial<QueueConsumerOptions> = {}) {
  const metrics = new TriggerMetrics();
  const consumer = await startQueueConsumer(h.trigger, {
    workflow: h.workflow.name,
    runs: h.manager,
    nc: h.nc,
    metrics,
    fetchExpiresMs: 1_000,
    nakBackoffMs: 100,
    ...options,
  });
  const labels = { workflow: h.workflow.name, subject: h.trigger.subject };
  return {
    consumer,
    metrics,
    count: (name: Parameters<TriggerMetrics["get"]>[0]) => metrics.get(name, labels),
  };
}

natsTest(
  "`startQueueConsumer()` runs each JetStream message once and acks it after the stored run",
  async (url) => {
    const h = await queueHarness(url);
    const { consumer, count } = await consume(h);
    try {
      await h.publish({ n: 1 });
      await h.publish("text payload", { "Content-Type": "text/plain" });
      await waitFor(() => count(ACKED) === 2, "two acks");
      const runs = await h.runs();
      assert.deepEqual(runs.map((r) => [r.status, r.trigger, r.input]), [
        ["succeeded", "queue", { n: 1 }],
        ["succeeded", "queue", { contentType: "text/plain", data: "text payload" }],
      ]);
      const info = await h.consumerInfo();
      assert.equal(info.num_ack_pending, 0);
      assert.equal(info.num_pending, 0);
      assert.equal(info.config.ack_policy, "explicit");
      assert.equal(info.config.max_deliver, 6, "maxDeliver 5 + one spare for a crashed replica");
      assert.equal(count(NAKED), 0);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` naks a failed run with doubling backoff and retries with a new run",
  async (url) => {
    const starts: number[] = [];
    const h = await queueHarness(url, {
      fn: () => {
        starts.push(Date.now());
        if (starts.length < 3) throw new Error(`flaky ${starts.length}`);
        return "ok";
      },
    });
    const { consumer, count } = await consume(h, { nakBackoffMs: 300 });
    try {
      await h.publish({ n: 1 });
      await waitFor(() => count(ACKED) === 1, "the ack");
      const runs = await h.runs();
      assert.deepEqual(runs.map((r) => r.status), ["failed", "failed", "succeeded"]);
      assert.equal(count(NAKED), 2);
      assert.equal(count(RECEIVED), 3);
      // The server redelivers after the nak delay: 300 ms, then 600 ms.
      assert.ok(
        starts[1]! - starts[0]! >= 300,
        `first redelivery after ${starts[1]! - starts[0]!}ms`,
      );
      assert.ok(
        starts[2]! - starts[1]! >= 600,
        `second redelivery after ${starts[2]! - starts[1]!}ms`,
      );
      assert.equal((await h.consumerInfo()).num_ack_pending, 0);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` dead-letters after maxDeliver failed runs, with the original message and why",
  async (url) => {
    const h = await queueHarness(url, {
      fn: () => {
        throw new Error("boom");
      },
      trigger: { maxDeliver: 2 },
    });
    const { consumer, count } = await consume(h);
    try {
      await h.publish({ order: 42 }, { "X-Custom": "kept" });
      await waitFor(() => count(DEAD) === 1, "the dead letter");
      const runs = await h.runs();
      assert.deepEqual(runs.map((r) => r.status), ["failed", "failed"]);
      const [letter, ...more] = await listDeadLetters(h.nc, h.trigger.deadLetter!);
      assert.equal(more.length, 0);
      assert.equal(letter!.originalSubject, h.trigger.subject);
      assert.equal(letter!.error, 'node "a": boom');
      assert.equal(letter!.runId, runs[1]!.runId);
      assert.equal(letter!.deliveryCount, 2);
      assert.equal(letter!.workflow, "test-flow");
      assert.equal(letter!.headers["X-Custom"], "kept");
      assert.deepEqual(JSON.parse(new TextDecoder().decode(letter!.data)), { order: 42 });
      await waitFor(async () => (await h.consumerInfo()).num_ack_pending === 0, "the term");
      assert.equal(count(NAKED), 1);
      assert.equal(count(ACKED), 0);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` dead-letters input the schema rejects at once, without a run or retries",
  async (url) => {
    const h = await queueHarness(url, {
      inputSchema: { type: "object", required: ["n"], properties: { n: { type: "number" } } },
    });
    const { consumer, count } = await consume(h);
    try {
      await h.publish({ x: 1 });
      await h.publish(new TextEncoder().encode("{not json"), {
        "Content-Type": "application/json",
      });
      await h.publish({ n: 3 });
      await waitFor(() => count(DEAD) === 2 && count(ACKED) === 1, "two dead letters, one ack");
      assert.deepEqual((await h.runs()).map((r) => r.input), [{ n: 3 }]);
      const letters = await listDeadLetters(h.nc, h.trigger.deadLetter!);
      assert.deepEqual(letters.map((l) => [l.deliveryCount, l.runId]), [[1, undefined], [
        1,
        undefined,
      ]]);
      assert.match(letters[0]!.error!, /n/);
      assert.match(letters[1]!.error!, /^Cannot decode the payload as JSON/);
      assert.equal(count(NAKED), 0);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` keeps at most maxConcurrency runs in flight and stops pulling meanwhile",
  async (url) => {
    const waiting: ReturnType<typeof deferred<unknown>>[] = [];
    let running = 0;
    let maxRunning = 0;
    const h = await queueHarness(url, {
      fn: async () => {
        maxRunning = Math.max(maxRunning, ++running);
        const gate = deferred<unknown>();
        waiting.push(gate);
        await gate.promise;
        running--;
        return "done";
      },
      trigger: { maxConcurrency: 2 },
    });
    const { consumer, count, metrics } = await consume(h);
    try {
      for (let i = 0; i < 8; i++) await h.publish({ i });
      await waitFor(() => waiting.length === 2, "two runs started");
      await consumer.refreshLag();
      const info = await h.consumerInfo();
      assert.equal(info.num_ack_pending, 2, "pulled but not acked: only the two running");
      assert.equal(info.num_pending, 6, "the rest stays in the stream");
      const labels = { workflow: "test-flow", subject: h.trigger.subject };
      assert.equal(metrics.get("pipedreamer_queue_consumer_lag", labels), 6);
      assert.equal(consumer.inFlight, 2);
      for (let released = 0; released < 8; released++) {
        await waitFor(() => waiting.length > 0, "a run waiting");
        const ackPending = (await h.consumerInfo()).num_ack_pending;
        assert.ok(ackPending <= 2, `${ackPending} messages pulled at once`);
        waiting.shift()!.resolve(undefined);
      }
      await waitFor(() => count(ACKED) === 8, "eight acks");
      assert.equal(maxRunning, 2);
      assert.equal(count(RECEIVED), 8);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` counts queue runs the manager resumed from the store against maxConcurrency",
  async (url) => {
    const waiting: ReturnType<typeof deferred<unknown>>[] = [];
    let running = 0;
    let maxRunning = 0;
    const h = await queueHarness(url, {
      fn: async () => {
        maxRunning = Math.max(maxRunning, ++running);
        const gate = deferred<unknown>();
        waiting.push(gate);
        await gate.promise;
        running--;
        return "done";
      },
      trigger: { maxConcurrency: 3 },
    });
    // Two runs resumed after a restart, still running: only one slot is left for messages.
    const resumed = deferred<void>();
    let adopted = ["resumed-1", "resumed-2"];
    const runs = {
      submit: h.manager.submit.bind(h.manager),
      getRun: h.manager.getRun.bind(h.manager),
      wait: (runId: string) =>
        adopted.includes(runId)
          ? resumed.promise.then(() => ({}) as Awaited<ReturnType<typeof h.manager.wait>>)
          : h.manager.wait(runId),
      adoptedRuns: (trigger: string) => trigger === "queue" ? adopted : [],
    };
    const { consumer, count } = await consume(h, { runs });
    try {
      for (let i = 0; i < 6; i++) await h.publish({ i });
      await waitFor(() => waiting.length === 1, "one run started");
      await consumer.refreshLag();
      assert.equal((await h.consumerInfo()).num_ack_pending, 1, "one message pulled");
      adopted = [];
      resumed.resolve();
      await waitFor(() => waiting.length === 3, "three runs once the resumed ones ended");
      for (let released = 0; released < 6; released++) {
        await waitFor(() => waiting.length > 0, "a run waiting");
        waiting.shift()!.resolve(undefined);
      }
      await waitFor(() => count(ACKED) === 6, "six acks");
      assert.equal(maxRunning, 3);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` paces run starts by the rate limit (fake clock)",
  async (url) => {
    const clock = new FakeClock(Date.now());
    const h = await queueHarness(url, { trigger: { rateLimit: { count: 1, perMs: 1_000 } } });
    const { consumer, count } = await consume(h, { clock });
    try {
      for (let i = 0; i < 3; i++) await h.publish({ i });
      await waitFor(() => count(ACKED) === 1, "the first run");
      await clock.waitForSleepers(1);
      assert.equal(count(RECEIVED), 1, "no token, no pull");
      assert.equal((await h.consumerInfo()).num_pending, 2);
      await clock.advance(999);
      assert.equal(count(RECEIVED), 1);
      await clock.advance(1);
      await waitFor(() => count(ACKED) === 2, "the second run");
      await clock.waitForSleepers(1);
      await clock.advance(1_000);
      await waitFor(() => count(ACKED) === 3, "the third run");
      assert.deepEqual((await h.runs()).map((r) => r.input), [{ i: 0 }, { i: 1 }, { i: 2 }]);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` does not run a redelivered message again while its first run goes on",
  async (url) => {
    const gate = deferred<unknown>();
    let started = 0;
    const a = await queueHarness(url, {
      fn: async () => {
        started++;
        return await gate.promise;
      },
    });
    const b = await queueHarness(url, { store: a.store, workflow: a.workflow });
    const first = await consume(a, { ackWaitMs: 1_000 });
    try {
      await a.publish({ n: 1 });
      await waitFor(() => started === 1, "the run on replica A");
      // Replica A loses NATS mid-run: no more heartbeats, so the server redelivers to B.
      await first.consumer.stop();
      await a.nc.close();
      const second = await consume(b, { ackWaitMs: 1_000 });
      try {
        await waitFor(() => second.count(RECEIVED) === 1, "the redelivery to replica B");
        gate.resolve("finished by A");
        await waitFor(() => second.count(ACKED) === 1, "B's ack");
        const runs = await a.runs();
        assert.equal(runs.length, 1, "one run for the message");
        assert.equal(runs[0]!.status, "succeeded");
        assert.equal(started, 1);
        assert.equal(b.runner.calls.length, 0, "replica B executed nothing");
        const info = await b.jsm.consumers.info(b.trigger.stream!, b.trigger.durable);
        assert.equal(info.num_ack_pending, 0);
      } finally {
        await second.consumer.drain();
      }
    } finally {
      await first.consumer.drain();
      await b.close();
      await a.manager.close();
      await a.store.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` without a stream splits core NATS messages in a queue group, at most once",
  async (url) => {
    const h = await queueHarness(url, {
      trigger: { stream: undefined, deadLetter: undefined },
      fn: (_ctx, input) => {
        if ((input as { fail?: boolean }).fail) throw new Error("no retry");
        return input;
      },
    });
    const one = await consume(h);
    const two = await consume(h);
    try {
      await h.nc.flush();
      for (let i = 0; i < 10; i++) h.nc.publish(h.trigger.subject, JSON.stringify({ i }));
      h.nc.publish(h.trigger.subject, JSON.stringify({ fail: true }));
      await waitFor(
        async () =>
          (await h.runs()).filter((r) => r.status !== "running" && r.status !== "queued").length ===
            11,
        "eleven finished runs",
      );
      assert.equal(one.count(RECEIVED) + two.count(RECEIVED), 11, "each message to one member");
      const runs = await h.runs();
      assert.equal(
        runs.filter((r) => r.status === "failed").length,
        1,
        "a failed run is not retried",
      );
      const reply = await h.nc.request(h.trigger.subject, JSON.stringify({ i: 99 }), {
        timeout: 5_000,
      });
      const { runId } = reply.json<{ runId: string }>();
      assert.deepEqual((await h.manager.wait(runId)).input, { i: 99 });
    } finally {
      await one.consumer.drain();
      await two.consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` without a stream leaves the queue group while saturated instead of buffering",
  async (url) => {
    const waiting: ReturnType<typeof deferred<unknown>>[] = [];
    const h = await queueHarness(url, {
      trigger: { stream: undefined, deadLetter: undefined, maxConcurrency: 1 },
      fn: async (_ctx, input) => {
        const gate = deferred<unknown>();
        waiting.push(gate);
        await gate.promise;
        return input;
      },
    });
    const { consumer, count } = await consume(h);
    try {
      await h.nc.flush();
      for (let i = 0; i < 6; i++) h.nc.publish(h.trigger.subject, JSON.stringify({ i }));
      await h.nc.flush();
      await waitFor(() => waiting.length === 1, "the first run");
      // One running, one waiting (the bound); the rest dropped here or by the server.
      assert.equal(consumer.inFlight, 1);
      waiting.shift()!.resolve(undefined);
      await waitFor(() => waiting.length === 1, "the waiting message's run");
      waiting.shift()!.resolve(undefined);
      await waitFor(async () => (await h.runs()).every((r) => r.status === "succeeded"), "idle");
      assert.equal((await h.runs()).length, 2);
      assert.equal(
        count("pipedreamer_queue_messages_dropped_total"),
        count(RECEIVED) - 2,
        "every message received beyond the bound is counted as dropped",
      );
      // Below the bound again, it is back in the group (subscribed when the backlog drained).
      await h.nc.flush();
      h.nc.publish(h.trigger.subject, JSON.stringify({ back: true }));
      await waitFor(() => waiting.length === 1, "a message after the pause");
      waiting.shift()!.resolve(undefined);
      await waitFor(async () => (await h.runs()).length === 3, "the third run");
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` waits out a full run queue without nak or a lost delivery (fake clock)",
  async (url) => {
    const clock = new FakeClock(Date.now());
    const gate = deferred<unknown>();
    const h = await queueHarness(url, {
      concurrency: { maxRuns: 1, queueLimit: 0, strategy: "append", startDelayMs: 0 },
      fn: async (_ctx, input) =>
        (input as { manual?: boolean }).manual ? await gate.promise : input,
    });
    const { consumer, count } = await consume(h, { clock });
    try {
      const { runId } = await h.manager.submit({ manual: true }); // takes the only slot
      await h.publish({ n: 1 });
      await clock.waitForSleepers(1);
      assert.equal(clock.sleeps[0], 100, "QueueFullError: retry the submit after 100 ms");
      await clock.advance(100);
      await clock.waitForSleepers(1);
      assert.equal(clock.sleeps[1], 200);
      gate.resolve("done");
      await h.manager.wait(runId);
      await clock.advance(200);
      await waitFor(() => count(ACKED) === 1, "the ack");
      assert.equal(count(NAKED), 0);
      assert.equal(count(RECEIVED), 1, "one delivery");
      assert.deepEqual((await h.runs()).map((r) => r.input), [{ manual: true }, { n: 1 }]);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`QueueConsumer.stop()` hands a message it could not submit yet back to the stream at once",
  async (url) => {
    const clock = new FakeClock(Date.now());
    const gate = deferred<unknown>();
    const h = await queueHarness(url, {
      concurrency: { maxRuns: 1, queueLimit: 0, strategy: "append", startDelayMs: 0 },
      fn: async () => await gate.promise,
    });
    const { consumer, count } = await consume(h, { clock });
    try {
      const { runId } = await h.manager.submit({ manual: true });
      await h.publish({ n: 1 });
      await clock.waitForSleepers(1);
      await consumer.drain();
      assert.equal(count(NAKED), 1);
      assert.equal((await h.runs()).length, 1, "no run for the handed-back message");
      gate.resolve("done");
      await h.manager.wait(runId);
      // Another replica gets it now, not after the 30 s ack wait.
      const next = await consume(h);
      await waitFor(() => next.count(ACKED) === 1, "the redelivery", { timeoutMs: 10_000 });
      await next.consumer.drain();
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`startQueueConsumer()` sets its consumer up again when it is deleted, without running a message twice",
  async (url) => {
    const h = await queueHarness(url);
    const { consumer, count } = await consume(h);
    try {
      await h.publish({ n: 1 });
      await waitFor(() => count(ACKED) === 1, "the first run");
      await h.jsm.consumers.delete(h.trigger.stream!, h.trigger.durable);
      await h.publish({ n: 2 });
      // The new consumer delivers the whole stream again: message 1 finds its succeeded run.
      await waitFor(() => count(ACKED) === 3, "both messages acked by the new consumer", {
        timeoutMs: 20_000,
      });
      assert.deepEqual((await h.runs()).map((r) => r.input), [{ n: 1 }, { n: 2 }]);
      assert.equal((await h.consumerInfo()).num_ack_pending, 0);
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);
