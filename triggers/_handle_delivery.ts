/**
 * One JetStream delivery → at most one new run, then ack, nak or dead letter.
 *
 * Idempotency: the message's n-th run has the key `<prefix>` (n = 1) or `<prefix>#n`, where the
 * prefix names the stream, its creation time and the message's stream sequence. A redelivery
 * first walks the keys of earlier runs: a run that already finished unsuccessfully is skipped,
 * an unfinished one (its replica died mid-run) is waited for instead of started again, a
 * succeeded one is acked. So each key runs once and a message runs at most `maxDeliver` times.
 *
 * @module
 */

import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import {
  type Clock,
  InputValidationError,
  isFinishedStatus,
  type RunRecord,
} from "../engine/mod.ts";
import { decodePayload } from "./_payload.ts";
import { publishDeadLetter } from "./dead_letter.ts";
import type { TriggerMetrics } from "./_metrics.ts";
import type { QueueLog, QueueRuns } from "./_queue_types.ts";

/** What happened to a delivery. */
export const DeliveryOutcome = {
  Acked: "acked",
  Naked: "naked",
  DeadLettered: "dead-lettered",
} as const;
/** One of {@link DeliveryOutcome}. */
export type DeliveryOutcome = typeof DeliveryOutcome[keyof typeof DeliveryOutcome];

/** Everything {@link handleDelivery} needs besides the message. */
export interface DeliveryContext {
  workflow: string;
  subject: string;
  stream: string;
  deadLetter: string;
  /** Run key prefix without the sequence: `nats:<stream>:<created>`. */
  keyPrefix: string;
  maxDeliver: number;
  ackWaitMs: number;
  /** Nak delay after the n-th failed run. */
  nakDelayMs: (failedRuns: number) => number;
  runs: QueueRuns;
  js: JetStreamClient;
  clock: Clock;
  metrics: TriggerMetrics;
  labels: Record<string, string>;
  log: QueueLog;
  /** Aborted when the trigger drains: a run not submitted yet is handed back (nak 0). */
  signal: AbortSignal;
}

const QUEUE_FULL_RETRY_MS = [100, 200, 500, 1_000, 2_000, 5_000];

/** Processes one delivery; never throws (a failure to ack or nak is logged). */
export async function handleDelivery(
  msg: JsMsg,
  ctx: DeliveryContext,
): Promise<DeliveryOutcome> {
  ctx.metrics.add("pipedreamer_queue_messages_received_total", ctx.labels);
  // Keep the server from redelivering while the run executes; stops when this replica dies.
  const heartbeat = setInterval(() => {
    try {
      msg.working();
    } catch {
      // The connection is gone: the message comes back after the ack wait anyway.
    }
  }, Math.max(200, ctx.ackWaitMs / 3));
  try {
    return await processDelivery(msg, ctx);
  } catch (error) {
    ctx.log("error", `Cannot process message ${msg.seq} of "${ctx.subject}"`, {
      error: (error as Error).message,
    });
    try {
      return nak(msg, ctx, ctx.nakDelayMs(msg.info.deliveryCount));
    } catch {
      // The connection is gone: the server redelivers after the ack wait.
      return DeliveryOutcome.Naked;
    }
  } finally {
    clearInterval(heartbeat);
  }
}

async function processDelivery(msg: JsMsg, ctx: DeliveryContext): Promise<DeliveryOutcome> {
  const decoded = decodePayload(msg.data, msg.headers?.get("Content-Type") || undefined);
  if (!decoded.ok) return deadLetter(msg, ctx, decoded.error, undefined);
  const prefix = `${ctx.keyPrefix}:${msg.seq}`;
  let last: RunRecord | undefined;
  for (let n = 1; n <= ctx.maxDeliver; n++) {
    const key = n === 1 ? prefix : `${prefix}#${n}`;
    let submitted: { runId: string; created: boolean };
    try {
      submitted = await submit(decoded.input, key, ctx);
    } catch (error) {
      if (error instanceof InputValidationError) {
        return deadLetter(msg, ctx, error.message, undefined);
      }
      if (ctx.signal.aborted || (error as Error).name === "DrainingError") return nak(msg, ctx, 0);
      throw error;
    }
    if (!submitted.created) {
      const existing = await ctx.runs.getRun(submitted.runId);
      if (existing && isFinishedStatus(existing.status) && existing.status !== "succeeded") {
        last = existing;
        continue;
      }
    }
    let ended: RunRecord;
    try {
      ended = await ctx.runs.wait(submitted.runId);
    } catch (error) {
      // This replica shuts down with the run still queued: another one picks it up.
      if ((error as Error).name === "DrainingError") return nak(msg, ctx, 0);
      throw error;
    }
    // Ack only what the store holds as finished, so an ack never outlives a lost write.
    const stored = await ctx.runs.getRun(submitted.runId);
    const record = stored && isFinishedStatus(stored.status) ? stored : undefined;
    if (!record) {
      throw new Error(`run ${submitted.runId} ended as "${ended.status}" but is not stored so`);
    }
    if (record.status === "succeeded") {
      if (!await msg.ackAck({ timeout: Math.min(ctx.ackWaitMs, 5_000) }).catch(() => false)) {
        // Unconfirmed: a redelivery finds the succeeded run and acks again.
        ctx.log("warn", `Ack of message ${msg.seq} of "${ctx.subject}" was not confirmed`);
      }
      ctx.metrics.add("pipedreamer_queue_messages_acked_total", ctx.labels);
      return DeliveryOutcome.Acked;
    }
    last = record;
    if (n < ctx.maxDeliver) {
      ctx.log("warn", `Run ${record.runId} of message ${msg.seq} ${record.status}; retrying`, {
        attempt: n,
        error: describe(record),
      });
      return nak(msg, ctx, ctx.nakDelayMs(n));
    }
  }
  return deadLetter(msg, ctx, last ? describe(last) : "no run", last?.runId);
}

/** submit, waiting out a full run queue (backpressure, not a failure of the message). */
async function submit(input: unknown, key: string, ctx: DeliveryContext) {
  for (let attempt = 0;; attempt++) {
    try {
      return await ctx.runs.submit(input, { idempotencyKey: key, trigger: "queue" });
    } catch (error) {
      if ((error as Error).name !== "QueueFullError") throw error;
      const delay = QUEUE_FULL_RETRY_MS[Math.min(attempt, QUEUE_FULL_RETRY_MS.length - 1)]!;
      await ctx.clock.sleep(delay, ctx.signal);
    }
  }
}

function nak(msg: JsMsg, ctx: DeliveryContext, delayMs: number): DeliveryOutcome {
  msg.nak(delayMs);
  ctx.metrics.add("pipedreamer_queue_messages_naked_total", ctx.labels);
  return DeliveryOutcome.Naked;
}

async function deadLetter(
  msg: JsMsg,
  ctx: DeliveryContext,
  error: string,
  runId: string | undefined,
): Promise<DeliveryOutcome> {
  await publishDeadLetter(ctx.js, msg, {
    workflow: ctx.workflow,
    subject: ctx.deadLetter,
    originalSubject: msg.subject,
    stream: ctx.stream,
    sequence: msg.seq,
    error,
    ...(runId !== undefined ? { runId } : {}),
    deliveryCount: msg.info.deliveryCount,
  });
  msg.term();
  ctx.metrics.add("pipedreamer_queue_messages_dead_lettered_total", ctx.labels);
  ctx.log("warn", `Message ${msg.seq} of "${msg.subject}" dead-lettered to "${ctx.deadLetter}"`, {
    error,
    ...(runId !== undefined ? { runId } : {}),
  });
  return DeliveryOutcome.DeadLettered;
}

function describe(record: RunRecord): string {
  if (record.error) return `node "${record.error.node}": ${record.error.message}`;
  return `run ${record.status}`;
}
