/**
 * `startNatsTriggers()`: the one wiring of the triggers layer into `dev` and `serve` — connect
 * (credentials from the `nats` secret), start the queue triggers, build the `/hooks/` handler,
 * and stop it all in the order a graceful shutdown needs.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";
import { connectNats } from "./connect_nats.ts";
import { TriggerMetrics } from "./_metrics.ts";
import type { QueueLog, QueueRuns } from "./_queue_types.ts";
import { type QueueConsumerOptions, startQueueTriggers } from "./queue_consumer.ts";
import { createJetStreamPublisher, createWebhookHandler } from "./webhook_gateway.ts";

/** Options of {@link startNatsTriggers}. */
export interface StartNatsTriggersOptions {
  /** NATS server URL(s), comma-separated. */
  natsUrl: string;
  /** The run manager. */
  runs: QueueRuns;
  /** Loaded secrets: `nats` holds the credentials, each webhook's `secret` names one. @default {} */
  secrets?: Record<string, unknown>;
  /** Operational log lines. @default dropped */
  log?: QueueLog;
  /** Passed to every consumer (tests shorten the ack wait). @default {} */
  consumer?: Omit<QueueConsumerOptions, "runs" | "nc" | "metrics" | "log">;
}

/** The running triggers of a server. */
export interface NatsTriggers {
  /** Handles `/hooks/<name>`; undefined when the workflow declares no webhooks. */
  readonly webhooks?: (request: Request) => Promise<Response>;
  /** Prometheus fragment of the queue triggers and webhooks. */
  metrics(): string;
  /** Stops taking messages (call before `RunManager.drain()`). */
  stop(): Promise<void>;
  /** Settles every delivery in flight, then drains the connection (after `RunManager.drain()`). */
  close(): Promise<void>;
}

/** Path prefix of the webhook gateway. */
export const HOOKS_PREFIX = "/hooks/";

/**
 * Connects to NATS and starts the workflow's queue triggers and webhooks. Call it after
 * `RunManager.recover()`, so a redelivered message finds its run resumed.
 *
 * @throws {TypeError} when the nats secret is malformed or a webhook's secret is missing
 * @throws {Error} when NATS is unreachable or a trigger cannot be set up (nothing stays open)
 * @example
 * ```ts
 * const nats = await startNatsTriggers(workflow, { natsUrl, runs: manager, secrets });
 * // shutdown: await nats.stop(); await manager.drain(graceMs); await nats.close();
 * ```
 */
export async function startNatsTriggers(
  workflow: CompiledWorkflow,
  options: StartNatsTriggersOptions,
): Promise<NatsTriggers> {
  const secrets = options.secrets ?? {};
  const metrics = new TriggerMetrics();
  const nc = await connectNats(options.natsUrl, { secret: secrets.nats });
  try {
    const webhooks = workflow.webhooks && Object.keys(workflow.webhooks).length > 0
      ? createWebhookHandler(
        { hooks: workflow.webhooks, secrets, metrics, prefix: HOOKS_PREFIX },
        createJetStreamPublisher(nc),
      )
      : undefined;
    const triggers = await startQueueTriggers(workflow, {
      ...options.consumer,
      runs: options.runs,
      nc,
      metrics,
      ...(options.log ? { log: options.log } : {}),
    });
    let closing: Promise<void> | undefined;
    return {
      ...(webhooks ? { webhooks } : {}),
      metrics: () => metrics.render(),
      stop: () => triggers.stop(),
      close: () =>
        closing ??= (async () => {
          await triggers.drain();
          await nc.drain();
        })(),
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}
