import assert from "node:assert/strict";
import { TriggerMetrics } from "./_metrics.ts";
import { REPLAY_OF_HEADER, replayStream } from "./replay.ts";
import { startQueueConsumer } from "./queue_consumer.ts";
import { natsTest } from "./testdata/nats_testing.ts";
import { queueHarness, waitFor } from "./testdata/queue_harness.ts";

natsTest("`replayStream()` re-runs the messages stored since a time, once each", async (url) => {
  const h = await queueHarness(url);
  const metrics = new TriggerMetrics();
  const labels = { workflow: "test-flow", subject: h.trigger.subject };
  const acked = () => metrics.get("pipedreamer_queue_messages_acked_total", labels);
  const consumer = await startQueueConsumer(h.trigger, {
    workflow: "test-flow",
    runs: h.manager,
    nc: h.nc,
    metrics,
    fetchExpiresMs: 1_000,
  });
  try {
    await h.publish({ old: true });
    await waitFor(() => acked() === 1, "the first run");
    const oldTime = (await h.jsm.streams.getMessage(h.trigger.stream!, { seq: 1 }))!.time;
    const since = new Date(oldTime.getTime() + 1);
    await waitFor(() => Date.now() > since.getTime() + 1, "a later stream timestamp");
    await h.publish({ n: 1 }, { "Nats-Msg-Id": "a" });
    await h.publish({ n: 2 });
    await waitFor(() => acked() === 3, "three runs");

    const dry = await replayStream(h.nc, h.trigger.subject, { since, dryRun: true });
    assert.deepEqual(dry.map((m) => [m.seq, m.replayedSeq]), [[2, undefined], [3, undefined]]);
    const replayed = await replayStream(h.nc, h.trigger.subject, { since });
    assert.deepEqual(replayed.map((m) => m.seq), [2, 3]);
    await waitFor(() => acked() === 5, "the replayed runs");
    const inputs = (await h.runs()).map((r) => r.input);
    assert.deepEqual(inputs, [{ old: true }, { n: 1 }, { n: 2 }, { n: 1 }, { n: 2 }]);
    const copy = await h.jsm.streams.getMessage(h.trigger.stream!, {
      seq: replayed[0]!.replayedSeq!,
    });
    assert.equal(copy?.header?.get(REPLAY_OF_HEADER), `${h.trigger.stream}:2`);

    const limited = await replayStream(h.nc, h.trigger.subject, { since, limit: 1, dryRun: true });
    assert.equal(limited.length, 1);
    const none = await replayStream(h.nc, h.trigger.subject, {
      since: new Date(Date.now() + 60_000),
    });
    assert.deepEqual(none, []);
  } finally {
    await consumer.drain();
    await h.close();
  }
});

natsTest("`replayStream()` rejects an invalid date and limit", async (url) => {
  const h = await queueHarness(url);
  try {
    await assert.rejects(replayStream(h.nc, "a", { since: new Date("nope") }), RangeError);
    await assert.rejects(replayStream(h.nc, "a", { since: new Date(), limit: 0 }), RangeError);
  } finally {
    await h.close();
  }
});
