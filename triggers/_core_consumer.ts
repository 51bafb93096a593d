/**
 * The core NATS side of a queue trigger (no `stream:`): a subscription in a queue group named
 * after the durable (the workflow name), so replicas split the messages. At most once: a
 * message is gone once delivered, a failed run is not retried, and while the trigger is
 * saturated it leaves the queue group (the server routes to other replicas, or drops the
 * message when none listens) instead of buffering without bound.
 *
 * @module
 */

import { adoptedRuns, oneEnded } from "./_adopted.ts";
import type { Msg, Subscription } from "@nats-io/transport-node";
import { InputValidationError, type QueueTrigger } from "../engine/mod.ts";
import { decodePayload } from "./_payload.ts";
import { RateLimiter } from "./_rate_limiter.ts";
import { KeySlots, messageKey } from "./_key_slots.ts";
import type { QueueConsumer, ResolvedConsumerOptions } from "./_consumer_options.ts";

/** Subscribes and starts dispatching. */
export function startCoreConsumer(
  trigger: QueueTrigger,
  options: ResolvedConsumerOptions,
): QueueConsumer {
  const { nc, clock, metrics, log, runs } = options;
  const labels = { workflow: options.workflow, subject: trigger.subject };
  const maxConcurrency = trigger.maxConcurrency ?? options.maxConcurrency;
  const limiter = trigger.rateLimit && new RateLimiter(trigger.rateLimit, clock);
  // Received but not started: at most this many (plus what is already on the wire at a pause).
  const capacity = maxConcurrency;
  const backlog: { msg: Msg; key: string }[] = [];
  // concurrency.key: a message whose key is at its maxRuns lets later messages of other keys by.
  const keys = new KeySlots(options.concurrency);
  const inFlight = new Set<Promise<void>>();
  const controller = new AbortController();
  let subscription: Subscription | undefined;
  let pumpTimer = false;

  const subscribe = () => {
    subscription = nc.subscribe(trigger.subject, {
      queue: trigger.durable,
      callback: (error, msg) => {
        if (error) {
          log("error", `Subscription to "${trigger.subject}" failed`, { error: error.message });
          return;
        }
        receive(msg);
      },
    });
  };
  const receive = (msg: Msg) => {
    metrics.add("pipedreamer_queue_messages_received_total", labels);
    if (backlog.length >= capacity) {
      metrics.add("pipedreamer_queue_messages_dropped_total", labels);
      return;
    }
    const key = messageKey(
      keys.concurrency,
      msg.data,
      msg.headers?.get("Content-Type") || undefined,
    );
    backlog.push({ msg, key });
    pump();
    if (backlog.length >= capacity && subscription) {
      subscription.unsubscribe();
      subscription = undefined;
    }
  };
  let watching = false;
  /** In flight: this consumer's runs and the queue runs resumed from the store. */
  const busy = () => {
    const adopted = adoptedRuns(runs);
    if (adopted.length > 0 && !watching) {
      watching = true;
      oneEnded(runs, adopted).then(() => {
        watching = false;
        pump();
      });
    }
    return inFlight.size + adopted.length;
  };
  const pump = () => {
    while (backlog.length > 0 && busy() < maxConcurrency && !controller.signal.aborted) {
      const next = backlog.findIndex((entry) => keys.free(entry.key));
      if (next < 0) break;
      if (limiter && !limiter.tryTake()) {
        if (!pumpTimer) {
          pumpTimer = true;
          clock.sleep(limiter.waitMs(), controller.signal).then(() => {
            pumpTimer = false;
            pump();
          }, () => {});
        }
        break;
      }
      const [entry] = backlog.splice(next, 1);
      keys.tryTake(entry!.key);
      start(entry!);
    }
    if (!subscription && !controller.signal.aborted && backlog.length <= capacity / 2) subscribe();
  };
  const start = ({ msg, key }: { msg: Msg; key: string }) => {
    const run = handle(msg).finally(() => {
      keys.release(key);
      inFlight.delete(run);
      metrics.set("pipedreamer_queue_in_flight", labels, inFlight.size);
      pump();
    });
    inFlight.add(run);
    metrics.set("pipedreamer_queue_in_flight", labels, inFlight.size);
  };
  const handle = async (msg: Msg) => {
    const reply = (body: unknown) => {
      if (msg.reply) msg.respond(JSON.stringify(body));
    };
    const decoded = decodePayload(msg.data, msg.headers?.get("Content-Type") || undefined);
    if (!decoded.ok) {
      log("warn", `Message on "${msg.subject}" rejected`, { error: decoded.error });
      return reply({ error: decoded.error });
    }
    const msgId = msg.headers?.get("Nats-Msg-Id");
    try {
      const { runId } = await runs.submit(decoded.input, {
        trigger: "queue",
        ...(msgId ? { idempotencyKey: `nats-msg-id:${msgId}` } : {}),
      });
      reply({ runId });
      const record = await runs.wait(runId);
      if (record.status !== "succeeded") {
        log("warn", `Run ${runId} from "${msg.subject}" ${record.status} (at most once: dropped)`);
      }
    } catch (error) {
      const message = (error as Error).message;
      log(error instanceof InputValidationError ? "warn" : "error", "Message dropped", {
        subject: msg.subject,
        error: message,
      });
      reply({ error: message });
    }
  };

  subscribe();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      controller.abort();
      const sub = subscription;
      subscription = undefined;
      await sub?.drain();
      // At most once: what was received but not started is dropped.
      if (backlog.length) {
        metrics.add(
          "pipedreamer_queue_messages_dropped_total",
          labels,
          backlog.length,
        );
      }
      backlog.length = 0;
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
    refreshLag: () => Promise.resolve(),
  };
}
