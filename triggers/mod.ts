/**
 * The triggers layer: queue triggers on NATS (core NATS at most once, JetStream at least once
 * with dead letters), the webhook gateway that publishes verified requests to JetStream, and the
 * dead-letter and replay operations of `pipedreamer dlq` and `pipedreamer replay`. `serve` and
 * `dev` start it after `RunManager.recover()`; other layers import only this file.
 *
 * @example
 * ```ts
 * import { startNatsTriggers } from "./mod.ts";
 * const nats = await startNatsTriggers(workflow, { natsUrl, runs: runManager, secrets });
 * // POST /hooks/<name> → nats.webhooks?.(request)
 * // on shutdown: await nats.stop(); await runManager.drain(grace); await nats.close();
 * ```
 *
 * @module
 */

export {
  type QueueConsumer,
  type QueueConsumerOptions,
  type QueueTriggers,
  startQueueConsumer,
  startQueueTriggers,
} from "./queue_consumer.ts";
export { type QueueLog, QueueLogLevel, type QueueRuns } from "./_queue_types.ts";
export {
  HOOKS_PREFIX,
  type NatsTriggers,
  startNatsTriggers,
  type StartNatsTriggersOptions,
} from "./start_nats_triggers.ts";
export { TriggerMetrics } from "./_metrics.ts";
export {
  connectNats,
  type ConnectNatsOptions,
  DEFAULT_NATS_URL,
  NATS_URL_ENV,
  redactUrl,
} from "./connect_nats.ts";
export {
  createJetStreamPublisher,
  createWebhookHandler,
  DEFAULT_HMAC_HEADER,
  type WebhookGatewayConfig,
  type WebhookHookConfig,
  type WebhookPublisher,
} from "./webhook_gateway.ts";
export {
  type DeadLetter,
  DeadLetterHeader,
  type DeadLetterQueryOptions,
  listDeadLetters,
  replayDeadLetters,
} from "./dead_letter.ts";
export {
  REPLAY_OF_HEADER,
  type ReplayedMessage,
  replayStream,
  type ReplayStreamOptions,
} from "./replay.ts";
export type { NatsConnection } from "@nats-io/transport-node";
