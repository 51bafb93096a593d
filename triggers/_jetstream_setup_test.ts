import assert from "node:assert/strict";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "./connect_nats.ts";
import { covers, ensureJetStream, type EnsureJetStreamOptions } from "./_jetstream_setup.ts";
import { natsTest } from "./testdata/nats_testing.ts";

for (
  const [pattern, subject, expected] of [
    ["events.>", "events.github.push", true],
    ["events.>", "events.*", true],
    ["events.>", "events", false],
    ["events.*", "events.push", true],
    ["events.*", "events.*", true],
    ["events.*", "events.>", false],
    ["events.*", "events.a.b", false],
    ["events.push", "events.push", true],
    ["events.push", "events.*", false],
    [">", "anything.at.all", true],
  ] as const
) {
  Deno.test(`\`covers()\` says ${expected} for stream subject "${pattern}" and trigger "${subject}"`, () => {
    assert.equal(covers(pattern, subject), expected);
  });
}

const base: EnsureJetStreamOptions = {
  stream: "EVENTS",
  subject: "events.push",
  durable: "flow",
  deadLetter: "events.push.dlq",
  serverMaxDeliver: 6,
  ackWaitMs: 30_000,
  workflow: "flow",
};

natsTest(
  "`ensureJetStream()` creates stream and consumer once when replicas race, and updates it later",
  async (url) => {
    const nc = await connectNats(url);
    try {
      const jsm = await jetstreamManager(nc);
      const setups = await Promise.all([1, 2, 3].map(() => ensureJetStream(jsm, base)));
      assert.equal(new Set(setups.map((s) => s.streamCreated)).size, 1);
      const stream = await jsm.streams.info("EVENTS");
      assert.deepEqual(stream.config.subjects, ["events.push", "events.push.dlq"]);
      const consumers = await jsm.consumers.list("EVENTS").next();
      assert.equal(consumers.length, 1);
      assert.equal(consumers[0]!.config.max_deliver, 6);

      await ensureJetStream(jsm, { ...base, serverMaxDeliver: 3, ackWaitMs: 10_000 });
      const updated = await jsm.consumers.info("EVENTS", "flow");
      assert.equal(updated.config.max_deliver, 3);
      assert.equal(updated.config.ack_wait, 10_000 * 1_000_000);
    } finally {
      await nc.close();
    }
  },
);

natsTest(
  "`ensureJetStream()` gives dead letters a stream of their own when the stream lacks them",
  async (url) => {
    const nc = await connectNats(url);
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "EVENTS", subjects: ["events.*"] });
      await ensureJetStream(jsm, base);
      assert.equal(await jsm.streams.find("events.push.dlq"), "EVENTS_DLQ");
      await ensureJetStream(jsm, {
        ...base,
        subject: "events.pull",
        durable: "other",
        deadLetter: "events.pull.dlq",
      });
      assert.deepEqual((await jsm.streams.info("EVENTS_DLQ")).config.subjects, [
        "events.push.dlq",
        "events.pull.dlq",
      ]);
    } finally {
      await nc.close();
    }
  },
);

natsTest(
  "`ensureJetStream()` refuses a stream without the subject and a consumer it cannot use",
  async (url) => {
    const nc = await connectNats(url);
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "OTHER", subjects: ["other.>"] });
      await assert.rejects(
        ensureJetStream(jsm, { ...base, stream: "OTHER" }),
        /^Error: Cannot start queue trigger on "events\.push": stream "OTHER" stores \["other\.>"\], not this subject; add "events\.push"/,
      );
      await jsm.streams.add({ name: "EVENTS", subjects: ["events.>"] });
      await jsm.consumers.add("EVENTS", { durable_name: "flow", ack_policy: AckPolicy.None });
      await assert.rejects(
        ensureJetStream(jsm, { ...base, deadLetter: "dead.push" }),
        /consumer "flow" of stream "EVENTS" exists but is not an explicit-ack pull consumer; delete it/,
      );
    } finally {
      await nc.close();
    }
  },
);
