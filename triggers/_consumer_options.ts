/**
 * Options and handle of one queue trigger's consumer, shared by the core NATS and the
 * JetStream implementations.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import {
  type Clock,
  type ConcurrencySettings,
  type QueueTrigger,
  systemClock,
} from "../engine/mod.ts";
import { TriggerMetrics } from "./_metrics.ts";
import type { QueueLog, QueueRuns } from "./_queue_types.ts";

/** Options of `startQueueConsumer()` and `startQueueTriggers()`. */
export interface QueueConsumerOptions {
  /** The run manager (or anything with its submit, wait and getRun). */
  runs: QueueRuns;
  /** An open connection (see `connectNats()`); not closed by the consumer. */
  nc: NatsConnection;
  /** Time source of the rate limiter and of retries. @default systemClock */
  clock?: Clock;
  /** In-flight runs when the trigger sets no `maxConcurrency`. @default 10 */
  maxConcurrency?: number;
  /**
   * The workflow's concurrency: with `key`, each key value (read from the message payload) has
   * at most `maxRuns` deliveries in flight, and the others wait for their key's turn without
   * taking a slot. @default undefined (no per-key limit)
   */
  concurrency?: ConcurrencySettings;
  /** Deliveries when the trigger sets no `maxDeliver` (JetStream). @default 5 */
  maxDeliver?: number;
  /** How long the server waits for an ack before redelivering; a running run keeps it alive. @default 30_000 */
  ackWaitMs?: number;
  /** Nak delay after the first failed run; doubles after each. @default 1_000 */
  nakBackoffMs?: number;
  /** Cap of the nak delay. @default 60_000 */
  maxNakBackoffMs?: number;
  /** How long one pull request waits for messages. @default 5_000 */
  fetchExpiresMs?: number;
  /** Period of the consumer-lag refresh. @default 5_000 */
  lagIntervalMs?: number;
  /** Where counters go; share one between triggers and the webhook gateway. @default a new one */
  metrics?: TriggerMetrics;
  /** Operational log lines. @default dropped */
  log?: QueueLog;
}

/** {@link QueueConsumerOptions} with every default applied. */
export type ResolvedConsumerOptions =
  & Required<Omit<QueueConsumerOptions, "maxConcurrency" | "maxDeliver" | "concurrency">>
  & {
    workflow: string;
    maxConcurrency: number;
    maxDeliver: number;
    concurrency: ConcurrencySettings | undefined;
  };

/** A running queue trigger. */
export interface QueueConsumer {
  readonly trigger: QueueTrigger;
  /** Messages taken and not settled yet (each is, or is about to be, one running run). */
  readonly inFlight: number;
  /** Stops taking messages; deliveries in flight go on. Idempotent. */
  stop(): Promise<void>;
  /** Stops, then waits until every delivery in flight is acked, naked or dead-lettered. */
  drain(): Promise<void>;
  /** Refreshes the consumer-lag gauges now (they refresh by themselves periodically). */
  refreshLag(): Promise<void>;
}

/**
 * Applies the defaults.
 *
 * @throws {RangeError} for a non-positive limit or period
 */
export function resolveConsumerOptions(
  workflow: string,
  options: QueueConsumerOptions,
): ResolvedConsumerOptions {
  const resolved: ResolvedConsumerOptions = {
    workflow,
    runs: options.runs,
    nc: options.nc,
    clock: options.clock ?? systemClock,
    maxConcurrency: options.maxConcurrency ?? 10,
    concurrency: options.concurrency,
    maxDeliver: options.maxDeliver ?? 5,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    nakBackoffMs: options.nakBackoffMs ?? 1_000,
    maxNakBackoffMs: options.maxNakBackoffMs ?? 60_000,
    fetchExpiresMs: options.fetchExpiresMs ?? 5_000,
    lagIntervalMs: options.lagIntervalMs ?? 5_000,
    metrics: options.metrics ?? new TriggerMetrics(),
    log: options.log ?? (() => {}),
  };
  for (
    const key of [
      "maxConcurrency",
      "maxDeliver",
      "ackWaitMs",
      "fetchExpiresMs",
      "lagIntervalMs",
    ] as const
  ) {
    if (!(resolved[key] > 0)) {
      throw new RangeError(`Cannot start queue triggers: ${key} ${resolved[key]} must be positive`);
    }
  }
  if (resolved.nakBackoffMs < 0 || resolved.maxNakBackoffMs < 0) {
    throw new RangeError("Cannot start queue triggers: nak backoff must not be negative");
  }
  return resolved;
}
