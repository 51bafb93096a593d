/**
 * The JetStream side of a queue trigger: a pull loop on the durable consumer that asks the
 * server only for as many messages as it can start now (free run slots, rate-limit tokens), so
 * a saturated trigger stops pulling and nothing waits in memory unstarted.
 *
 * @module
 */

import { adoptedRuns, oneEnded } from "./_adopted.ts";
import { type Consumer, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { QueueTrigger } from "../engine/mod.ts";
import { ensureJetStream } from "./_jetstream_setup.ts";
import { type DeliveryContext, handleDelivery } from "./_handle_delivery.ts";
import { RateLimiter } from "./_rate_limiter.ts";
import { KeySlots, messageKey } from "./_key_slots.ts";
import type { QueueConsumer, ResolvedConsumerOptions } from "./_consumer_options.ts";

const MAX_BATCH = 256;
const RETRY_MS = 1_000;

/** Sets up the stream and the durable consumer, then starts pulling. */
export async function startJetStreamConsumer(
  trigger: QueueTrigger & { stream: string },
  options: ResolvedConsumerOptions,
): Promise<QueueConsumer> {
  const { nc, clock, metrics, log } = options;
  const maxDeliver = trigger.maxDeliver ?? options.maxDeliver;
  const deadLetter = trigger.deadLetter ?? `${trigger.subject}.dlq`;
  const jsm = await jetstreamManager(nc);
  const setupOptions = {
    stream: trigger.stream,
    subject: trigger.subject,
    durable: trigger.durable,
    deadLetter,
    serverMaxDeliver: maxDeliver + 1,
    ackWaitMs: options.ackWaitMs,
    workflow: options.workflow,
  };
  let setup = await ensureJetStream(jsm, setupOptions);
  const js = jsm.jetstream();
  let consumer: Consumer = await js.consumers.get(setup.stream, setup.durable);
  const labels = { workflow: options.workflow, subject: trigger.subject };
  const maxConcurrency = trigger.maxConcurrency ?? options.maxConcurrency;
  const limiter = trigger.rateLimit && new RateLimiter(trigger.rateLimit, clock);
  const controller = new AbortController();
  const signal = controller.signal;
  const context: DeliveryContext = {
    workflow: options.workflow,
    subject: trigger.subject,
    stream: setup.stream,
    deadLetter,
    keyPrefix: `nats:${setup.stream}:${setup.streamCreated}`,
    maxDeliver,
    ackWaitMs: options.ackWaitMs,
    nakDelayMs: (n) => Math.min(options.maxNakBackoffMs, options.nakBackoffMs * 2 ** (n - 1)),
    runs: options.runs,
    js,
    clock,
    metrics,
    labels,
    log,
    signal,
  };

  const inFlight = new Set<Promise<unknown>>();
  // concurrency.key: deliveries of a key at its maxRuns wait for the key's turn, kept alive.
  const keys = new KeySlots(options.concurrency);
  let slotFreed = Promise.withResolvers<void>();
  let current: { stop(): void } | undefined;
  const start = (msg: JsMsg) => {
    const delivery = deliverInTurn(msg, keys, context).finally(() => {
      inFlight.delete(delivery);
      metrics.set("pipedreamer_queue_in_flight", labels, inFlight.size);
      slotFreed.resolve();
      slotFreed = Promise.withResolvers<void>();
    });
    inFlight.add(delivery);
    metrics.set("pipedreamer_queue_in_flight", labels, inFlight.size);
  };
  const aborted = new Promise<void>((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );

  const loop = (async () => {
    while (!signal.aborted) {
      // Waiting deliveries take no slot, but at most maxConcurrency of them are held. Runs
      // resumed from the store after a restart (or taken over) take a slot too.
      const adopted = adoptedRuns(options.runs);
      const running = inFlight.size - keys.parked + adopted.length;
      if (running >= maxConcurrency || keys.parked >= maxConcurrency) {
        await Promise.race([slotFreed.promise, aborted, oneEnded(options.runs, adopted)]);
        continue;
      }
      try {
        if (limiter) await limiter.ready(signal);
        const free = Math.min(maxConcurrency - running, maxConcurrency - keys.parked);
        const batch = Math.min(free, limiter ? Math.max(1, limiter.available()) : free, MAX_BATCH);
        const messages = await consumer.fetch({
          max_messages: batch,
          expires: options.fetchExpiresMs,
        });
        current = messages;
        if (signal.aborted) messages.stop();
        for await (const msg of messages) {
          limiter?.tryTake();
          start(msg);
        }
      } catch (error) {
        if (signal.aborted) break;
        log("error", `Cannot pull from consumer "${setup.durable}" of "${setup.stream}"`, {
          error: (error as Error).message,
        });
        await clock.sleep(RETRY_MS, signal).catch(() => {});
        // The stream or the consumer may have been deleted (or the server lost its store):
        // set them up again; the idempotency keys keep old messages from running twice.
        try {
          if (!signal.aborted) {
            setup = await ensureJetStream(jsm, setupOptions);
            context.keyPrefix = `nats:${setup.stream}:${setup.streamCreated}`;
            consumer = await js.consumers.get(setup.stream, setup.durable);
          }
        } catch (setupError) {
          log("error", `Cannot set up consumer "${setup.durable}" of "${setup.stream}" again`, {
            error: (setupError as Error).message,
          });
        }
      } finally {
        current = undefined;
      }
    }
  })();

  const refreshLag = async () => {
    const info = await consumer.info(false);
    metrics.set("pipedreamer_queue_consumer_lag", labels, info.num_pending);
    metrics.set("pipedreamer_queue_consumer_ack_pending", labels, info.num_ack_pending);
  };
  const lagTimer = setInterval(() => {
    refreshLag().catch(() => {}); // a lost connection shows as a stale gauge, not a crash
  }, options.lagIntervalMs);
  await refreshLag().catch(() => {});

  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      clearInterval(lagTimer);
      controller.abort(new DOMException("Queue trigger stopped", "AbortError"));
      current?.stop();
      await loop;
    })();
  return {
    trigger,
    get inFlight() {
      return inFlight.size;
    },
    stop,
    async drain() {
      await stop();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    refreshLag,
  };
}

/**
 * Waits for a slot of the message's key (sending "in progress" meanwhile), then handles it; a
 * trigger that stops first hands the message back at once (nak without delay).
 */
async function deliverInTurn(msg: JsMsg, keys: KeySlots, context: DeliveryContext) {
  const key = messageKey(keys.concurrency, msg.data, msg.headers?.get("Content-Type") || undefined);
  if (!keys.tryTake(key)) {
    const heartbeat = setInterval(() => {
      try {
        msg.working();
      } catch {
        // The connection is gone: the message comes back after the ack wait anyway.
      }
    }, Math.max(200, context.ackWaitMs / 3));
    try {
      await keys.take(key, context.signal);
    } catch {
      msg.nak(0);
      context.metrics.add("pipedreamer_queue_messages_naked_total", context.labels);
      return;
    } finally {
      clearInterval(heartbeat);
    }
  }
  try {
    return await handleDelivery(msg, context);
  } finally {
    keys.release(key);
  }
}
