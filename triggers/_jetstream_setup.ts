/**
 * Idempotent JetStream setup of a queue trigger: the stream (created when missing), a stream
 * for the dead letters (when no stream stores them yet) and the durable pull consumer (created,
 * or updated to the trigger's settings). Several replicas may run it at once.
 *
 * @module
 */

import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/** What the consumer needs to know after setup. */
export interface JetStreamSetup {
  stream: string;
  /** Creation time of the stream: part of the run idempotency key (a recreated stream reuses sequences). */
  streamCreated: string;
  durable: string;
}

/** Settings of {@link ensureJetStream}. */
export interface EnsureJetStreamOptions {
  stream: string;
  subject: string;
  durable: string;
  deadLetter: string;
  /** Deliveries the server makes at most (maxDeliver + 1: one spare for a crashed replica). */
  serverMaxDeliver: number;
  ackWaitMs: number;
  workflow: string;
}

/**
 * Creates or checks the stream, the dead-letter stream and the durable consumer.
 *
 * @throws {Error} when the stream exists but does not store the subject, or the consumer exists
 *   with settings that cannot be updated
 */
export async function ensureJetStream(
  jsm: JetStreamManager,
  options: EnsureJetStreamOptions,
): Promise<JetStreamSetup> {
  const { stream, subject, durable, deadLetter } = options;
  const info = await ensureStream(jsm, stream, [subject, deadLetter]);
  if (!info.config.subjects?.some((pattern) => covers(pattern, subject))) {
    throw new Error(
      `Cannot start queue trigger on "${subject}": stream "${stream}" stores ` +
        `${JSON.stringify(info.config.subjects ?? [])}, not this subject; add "${subject}" to ` +
        "the stream's subjects or name another stream: in workflow.yaml",
    );
  }
  await ensureDeadLetterStream(jsm, stream, deadLetter);
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    filter_subject: subject,
    max_deliver: options.serverMaxDeliver,
    ack_wait: nanos(options.ackWaitMs),
    description: `pipedreamer queue trigger of workflow ${options.workflow}`,
  };
  const existing = await consumerInfo(jsm, stream, durable);
  if (!existing) {
    try {
      await jsm.consumers.add(stream, { ...config, deliver_policy: DeliverPolicy.All });
    } catch (error) {
      // Another replica created it first (with the same config the add would be a no-op).
      if (!await consumerInfo(jsm, stream, durable)) throw error;
      await updateConsumer(jsm, stream, config);
    }
  } else {
    if (existing.config.ack_policy !== AckPolicy.Explicit || existing.config.deliver_subject) {
      throw new Error(
        `Cannot start queue trigger on "${subject}": consumer "${durable}" of stream ` +
          `"${stream}" exists but is not an explicit-ack pull consumer; delete it ` +
          `(nats consumer rm ${stream} ${durable}) or set durable: to another name`,
      );
    }
    const c = existing.config;
    if (
      c.filter_subject !== subject || c.max_deliver !== config.max_deliver ||
      c.ack_wait !== config.ack_wait || c.description !== config.description
    ) await updateConsumer(jsm, stream, config);
  }
  return { stream, streamCreated: info.created, durable };
}

async function ensureStream(
  jsm: JetStreamManager,
  stream: string,
  subjects: string[],
): Promise<StreamInfo> {
  const found = await streamInfo(jsm, stream);
  if (found) return found;
  try {
    return await jsm.streams.add({ name: stream, subjects });
  } catch (error) {
    const raced = await streamInfo(jsm, stream);
    if (raced) return raced;
    throw new Error(`Cannot create stream "${stream}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Dead letters must be stored: when no stream has their subject, `<stream>_DLQ` gets it. */
async function ensureDeadLetterStream(
  jsm: JetStreamManager,
  stream: string,
  deadLetter: string,
): Promise<void> {
  try {
    await jsm.streams.find(deadLetter);
    return;
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.StreamNotFound) && !/no stream/i.test(String(error))) {
      throw error;
    }
  }
  const name = `${stream}_DLQ`;
  const existing = await streamInfo(jsm, name);
  if (existing) {
    await jsm.streams.update(name, {
      ...existing.config,
      subjects: [...(existing.config.subjects ?? []), deadLetter],
    });
    return;
  }
  try {
    await jsm.streams.add({ name, subjects: [deadLetter] });
  } catch (error) {
    if (!await streamInfo(jsm, name)) throw error;
  }
}

async function updateConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: { durable_name: string } & Record<string, unknown>,
): Promise<void> {
  const { durable_name, ack_policy: _ack, ...update } = config;
  try {
    await jsm.consumers.update(stream, durable_name, update);
  } catch (error) {
    throw new Error(
      `Cannot update consumer "${durable_name}" of stream "${stream}": ${
        (error as Error).message
      }; delete it (nats consumer rm ${stream} ${durable_name}) to recreate it`,
      { cause: error },
    );
  }
}

async function streamInfo(jsm: JetStreamManager, stream: string) {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (isNotFound(error, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw error;
  }
}

async function consumerInfo(jsm: JetStreamManager, stream: string, durable: string) {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/**
 * True when every subject `subject` can match is matched by the stream subject `pattern`
 * (`*` one token, a final `>` one or more).
 */
export function covers(pattern: string, subject: string): boolean {
  const [p, s] = [pattern.split("."), subject.split(".")];
  for (const [i, token] of p.entries()) {
    if (token === ">") return s.length > i;
    const other = s[i];
    if (other === undefined || other === ">") return false;
    if (token !== "*" && token !== other) return false;
  }
  return p.length === s.length;
}
