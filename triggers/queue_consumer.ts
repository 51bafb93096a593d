/**
 * Queue triggers (SPEC §2 `type: queue`): without `stream:` a core NATS queue-group
 * subscription (at most once); with `stream:` a durable JetStream pull consumer (at least once,
 * each message → exactly one successful run, dead letters after `maxDeliver`).
 *
 * @module
 */

import type { CompiledWorkflow, QueueTrigger } from "../engine/mod.ts";
import {
  type QueueConsumer,
  type QueueConsumerOptions,
  resolveConsumerOptions,
} from "./_consumer_options.ts";
import { startCoreConsumer } from "./_core_consumer.ts";
import { startJetStreamConsumer } from "./_jetstream_consumer.ts";
import { TriggerMetrics } from "./_metrics.ts";

export type { QueueConsumer, QueueConsumerOptions } from "./_consumer_options.ts";

/**
 * Starts one queue trigger. With `stream:` the stream is created when missing (storing the
 * subject and the dead-letter subject), a stream `<stream>_DLQ` is created for the dead letters
 * when no stream stores them, and the durable consumer is created or updated; several replicas
 * may start the same trigger at once and then share its messages.
 *
 * @throws {RangeError} for a non-positive option
 * @throws {Error} when the stream exists without the subject, or JetStream refuses the setup
 * @example
 * ```ts
 * const nc = await connectNats("nats://127.0.0.1:4222");
 * const consumer = await startQueueConsumer(
 *   { type: "queue", subject: "events.push", stream: "EVENTS", durable: "my-flow" },
 *   { workflow: "my-flow", runs: runManager, nc },
 * );
 * await consumer.drain();
 * ```
 */
export async function startQueueConsumer(
  trigger: QueueTrigger,
  options: QueueConsumerOptions & { workflow: string },
): Promise<QueueConsumer> {
  const resolved = resolveConsumerOptions(options.workflow, options);
  if (trigger.stream !== undefined) {
    return await startJetStreamConsumer({ ...trigger, stream: trigger.stream }, resolved);
  }
  const consumer = startCoreConsumer(trigger, resolved);
  await resolved.nc.flush(); // the server knows the subscription when this resolves
  return consumer;
}

/** Every queue trigger of a workflow, running. */
export interface QueueTriggers {
  readonly consumers: readonly QueueConsumer[];
  /** Prometheus text fragment of the triggers (and of the webhook gateway sharing `metrics`). */
  metrics(): string;
  /** Stops taking messages; deliveries in flight go on. */
  stop(): Promise<void>;
  /** Stops, then waits until every delivery in flight is settled. */
  drain(): Promise<void>;
}

/**
 * Starts every queue trigger of `workflow` (none: an empty handle). Start them after
 * `RunManager.recover()`, so that runs of redelivered messages are found resumed.
 *
 * @throws {Error} when a trigger cannot start (the ones already started are stopped first)
 * @example
 * ```ts
 * const triggers = await startQueueTriggers(workflow, { runs: runManager, nc });
 * // … on shutdown, before RunManager.drain():
 * await triggers.stop();
 * ```
 */
export async function startQueueTriggers(
  workflow: CompiledWorkflow,
  options: QueueConsumerOptions,
): Promise<QueueTriggers> {
  const metrics = options.metrics ?? new TriggerMetrics();
  const consumers: QueueConsumer[] = [];
  const queueTriggers = workflow.triggers.filter((t): t is QueueTrigger => t.type === "queue");
  const concurrency = workflow.concurrency;
  // With a key, maxRuns is per key value: the trigger's own cap is the total one.
  const maxConcurrency = options.maxConcurrency ??
    (concurrency?.key === undefined ? concurrency?.maxRuns : concurrency.maxRunsTotal);
  try {
    for (const trigger of queueTriggers) {
      consumers.push(
        await startQueueConsumer(trigger, {
          ...options,
          ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
          concurrency: options.concurrency ?? concurrency,
          metrics,
          workflow: workflow.name,
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(consumers.map((consumer) => consumer.stop()));
    throw error;
  }
  return {
    consumers,
    metrics: () => metrics.render(),
    async stop() {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    },
    async drain() {
      await Promise.all(consumers.map((consumer) => consumer.drain()));
    },
  };
}
