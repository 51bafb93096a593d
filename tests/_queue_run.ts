/**
 * The queue-trigger steps the engine tests share: publish a message once the engine's JetStream
 * consumer exists, then wait for the one run it starts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "../triggers/mod.ts";
import { ignoreWithoutNats, type NatsServer, startNatsServer, waitFor } from "../testing/mod.ts";

const POLL = { timeoutMs: 30_000, intervalMs: 50 };

/** The token the test NATS server of {@link queueTest} requires. */
export const NATS_TOKEN = "nats-s3cret-token";

/** A test with a real nats-server that requires {@link NATS_TOKEN} (ignored without one). */
export function queueTest(name: string, body: (nats: NatsServer) => Promise<void>): void {
  Deno.test({
    name,
    ignore: ignoreWithoutNats(),
    async fn() {
      await using nats = await startNatsServer({ token: NATS_TOKEN });
      await body(nats);
    },
  });
}

/** Where and what to publish: the engine creates `stream` and its consumer `durable`. */
export interface QueueMessage {
  natsUrl: string;
  stream: string;
  durable: string;
  subject: string;
  payload: unknown;
}

/**
 * Publishes the message once the engine set up its consumer, waits until the engine (`get`
 * answers its API's GET paths as JSON) has exactly one succeeded run, started by the queue, and
 * returns that run's record.
 */
export async function runFromQueue(
  message: QueueMessage,
  get: (path: string) => Promise<{ [key: string]: unknown }>,
): Promise<{ [key: string]: unknown }> {
  const nc = await connectNats(message.natsUrl, { secret: NATS_TOKEN });
  try {
    const jsm = await jetstreamManager(nc);
    await waitFor(
      () => jsm.consumers.info(message.stream, message.durable).then(() => true, () => false),
      "the consumer the engine creates",
      POLL,
    );
    await jsm.jetstream().publish(message.subject, JSON.stringify(message.payload));
  } finally {
    await nc.close();
  }
  let runs: { runId: string; status: string; trigger: string }[] = [];
  await waitFor(
    async () => {
      runs = (await get("/runs")).runs as typeof runs;
      return runs.length === 1 && runs[0]!.status === "succeeded";
    },
    "the run of the message",
    POLL,
  );
  assert.equal(runs[0]!.trigger, "queue");
  return await get(`/runs/${runs[0]!.runId}`);
}
