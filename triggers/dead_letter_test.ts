import assert from "node:assert/strict";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { TriggerMetrics } from "./_metrics.ts";
import {
  DeadLetterHeader,
  listDeadLetters,
  publishDeadLetter,
  replayDeadLetters,
} from "./dead_letter.ts";
import { startQueueConsumer } from "./queue_consumer.ts";
import { natsTest } from "./testdata/nats_testing.ts";
import { queueHarness, waitFor } from "./testdata/queue_harness.ts";

natsTest(
  "`replayDeadLetters()` republishes to the original subject, and the run now succeeds",
  async (url) => {
    let broken = true;
    const h = await queueHarness(url, {
      trigger: { maxDeliver: 1, maxConcurrency: 1 }, // one at a time: dead letters in order
      fn: (_ctx, input) => {
        if (broken) throw new Error("downstream is down");
        return input;
      },
    });
    const metrics = new TriggerMetrics();
    const labels = { workflow: "test-flow", subject: h.trigger.subject };
    const consumer = await startQueueConsumer(h.trigger, {
      workflow: "test-flow",
      runs: h.manager,
      nc: h.nc,
      metrics,
      fetchExpiresMs: 1_000,
    });
    try {
      for (let i = 0; i < 3; i++) await h.publish({ i }, { "Nats-Msg-Id": `order-${i}` });
      await waitFor(
        () => metrics.get("pipedreamer_queue_messages_dead_lettered_total", labels) === 3,
        "three dead letters",
      );
      const listed = await listDeadLetters(h.nc, h.trigger.deadLetter!, { limit: 2 });
      assert.deepEqual(listed.map((l) => JSON.parse(new TextDecoder().decode(l.data))), [{ i: 0 }, {
        i: 1,
      }]);

      broken = false;
      const replayed = await replayDeadLetters(h.nc, h.trigger.deadLetter!, { limit: 2 });
      assert.equal(replayed.length, 2);
      assert.ok(replayed.every((r) => r.replayedSeq > 0));
      await waitFor(
        () => metrics.get("pipedreamer_queue_messages_acked_total", labels) === 2,
        "the replayed runs",
      );
      const runs = await h.runs();
      assert.deepEqual(runs.map((r) => [r.status, r.input]), [
        ["failed", { i: 0 }],
        ["failed", { i: 1 }],
        ["failed", { i: 2 }],
        ["succeeded", { i: 0 }],
        ["succeeded", { i: 1 }],
      ]);
      // Replayed letters are gone; the third stays for a later replay.
      const left = await listDeadLetters(h.nc, h.trigger.deadLetter!);
      assert.deepEqual(left.map((l) => JSON.parse(new TextDecoder().decode(l.data))), [{ i: 2 }]);
      // The copy carries the original headers but not the dead-letter ones.
      const copy = await h.jsm.streams.getMessage(h.trigger.stream!, {
        seq: replayed[0]!.replayedSeq,
      });
      assert.equal(
        copy?.header?.get(DeadLetterHeader.ReplayedFrom),
        `${listed[0]!.stream}:${listed[0]!.seq}`,
      );
      assert.equal(copy?.header?.get(DeadLetterHeader.Error), "");
      assert.equal(
        copy?.header?.get("Nats-Msg-Id"),
        "",
        "the original id would make the copy a duplicate",
      );
    } finally {
      await consumer.drain();
      await h.close();
    }
  },
);

natsTest(
  "`publishDeadLetter()` is deduplicated when a crashed replica publishes it again",
  async (url) => {
    const h = await queueHarness(url);
    const consumer = await startQueueConsumer(h.trigger, {
      workflow: "test-flow",
      runs: h.manager,
      nc: h.nc,
    });
    await consumer.stop(); // creates the streams only
    try {
      const headers = natsHeaders();
      headers.set("Content-Type", "application/json");
      headers.set("Nats-Msg-Id", "original-id");
      const info = {
        workflow: "test-flow",
        subject: h.trigger.deadLetter!,
        originalSubject: h.trigger.subject,
        stream: h.trigger.stream!,
        sequence: 7,
        error: "line one\r\nline two",
        runId: "run-1",
        deliveryCount: 3,
      };
      const message = { data: new TextEncoder().encode("{}"), headers };
      await publishDeadLetter(h.js, message, info);
      await publishDeadLetter(h.js, message, info);
      const letters = await listDeadLetters(h.nc, h.trigger.deadLetter!);
      assert.equal(letters.length, 1);
      assert.equal(letters[0]!.error, "line one line two", "header values are one line");
      assert.equal(letters[0]!.headers["Content-Type"], "application/json");
      assert.equal(letters[0]!.headers[DeadLetterHeader.OriginalSequence], "7");
    } finally {
      await h.close();
    }
  },
);

natsTest("`listDeadLetters()` names the fix when no stream stores the subject", async (url) => {
  const h = await queueHarness(url);
  try {
    await assert.rejects(
      listDeadLetters(h.nc, "nothing.here.dlq"),
      /^Error: Cannot read "nothing\.here\.dlq": no JetStream stream stores it/,
    );
    await assert.rejects(listDeadLetters(h.nc, "x", { limit: 0 }), RangeError);
  } finally {
    await h.close();
  }
});
