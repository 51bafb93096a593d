/**
 * Dead letters: a message whose runs kept failing (or that can never become a run) is published
 * with its original payload and headers to the trigger's dead-letter subject, with headers that
 * say why. `listDeadLetters()` and `replayDeadLetters()` back `pipedreamer dlq list|replay`.
 *
 * @module
 */

import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { readStream } from "./_read_stream.ts";

/** Headers a dead letter carries besides the original ones. */
export const DeadLetterHeader = {
  OriginalSubject: "Pipedreamer-Original-Subject",
  OriginalStream: "Pipedreamer-Original-Stream",
  OriginalSequence: "Pipedreamer-Original-Sequence",
  Error: "Pipedreamer-Error",
  RunId: "Pipedreamer-Run-Id",
  DeliveryCount: "Pipedreamer-Delivery-Count",
  Workflow: "Pipedreamer-Workflow",
  /** Set on a message republished by `dlq replay`: the dead letter's stream sequence. */
  ReplayedFrom: "Pipedreamer-Replayed-From",
} as const;
/** One of {@link DeadLetterHeader}. */
export type DeadLetterHeader = typeof DeadLetterHeader[keyof typeof DeadLetterHeader];

/** Why and where a message is dead-lettered. */
export interface DeadLetterInfo {
  workflow: string;
  /** The dead-letter subject. */
  subject: string;
  originalSubject: string;
  stream: string;
  sequence: number;
  error: string;
  runId?: string;
  deliveryCount: number;
}

const MAX_HEADER_VALUE = 1024;

/**
 * Publishes a message's original payload and headers to the dead-letter subject and waits for
 * the stream's acknowledgement. The message id `dlq:<stream>:<seq>` makes a republish after a
 * crash a duplicate that the stream drops.
 *
 * @throws {Error} when no stream stores the dead-letter subject (cause set)
 * @example
 * ```ts
 * await publishDeadLetter(js, { data, headers }, {
 *   workflow: "wf", subject: "events.dlq", originalSubject: "events.push", stream: "EVENTS",
 *   sequence: 7, error: "node \"a\": boom", runId: "r1", deliveryCount: 5,
 * });
 * ```
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  message: { data: Uint8Array; headers?: MsgHdrs },
  info: DeadLetterInfo,
): Promise<{ seq: number }> {
  const h = copyHeaders(message.headers);
  h.set(DeadLetterHeader.OriginalSubject, info.originalSubject);
  h.set(DeadLetterHeader.OriginalStream, info.stream);
  h.set(DeadLetterHeader.OriginalSequence, String(info.sequence));
  h.set(DeadLetterHeader.Error, headerValue(info.error));
  if (info.runId !== undefined) h.set(DeadLetterHeader.RunId, info.runId);
  h.set(DeadLetterHeader.DeliveryCount, String(info.deliveryCount));
  h.set(DeadLetterHeader.Workflow, info.workflow);
  try {
    const ack = await js.publish(info.subject, message.data, {
      headers: h,
      msgID: `dlq:${info.stream}:${info.sequence}`,
    });
    return { seq: ack.seq };
  } catch (error) {
    throw new Error(
      `Cannot publish dead letter to "${info.subject}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** One stored dead letter. */
export interface DeadLetter {
  /** Sequence in the stream that stores the dead letters. */
  seq: number;
  stream: string;
  time: string;
  originalSubject?: string;
  error?: string;
  runId?: string;
  deliveryCount?: number;
  workflow?: string;
  /** Every header of the dead letter. */
  headers: Record<string, string>;
  data: Uint8Array;
}

/** Options of {@link listDeadLetters} and {@link replayDeadLetters}. */
export interface DeadLetterQueryOptions {
  /** At most this many, oldest first. @default 100 */
  limit?: number;
}

/**
 * The dead letters stored on `subject`, oldest first.
 *
 * @throws {Error} when no stream stores `subject`
 * @example
 * ```ts
 * const letters = await listDeadLetters(nc, "events.github.push.dlq", { limit: 10 });
 * ```
 */
export async function listDeadLetters(
  nc: NatsConnection,
  subject: string,
  options: DeadLetterQueryOptions = {},
): Promise<DeadLetter[]> {
  const limit = checkLimit(options.limit ?? 100);
  const jsm = await jetstreamManager(nc);
  const stream = await findStream(jsm, subject);
  const letters: DeadLetter[] = [];
  for await (const msg of readStream(jsm.jetstream(), stream, subject, { limit })) {
    const h = msg.headers;
    const all: Record<string, string> = {};
    for (const [key, values] of h ?? []) all[key] = values.join(", ");
    const count = h?.get(DeadLetterHeader.DeliveryCount);
    letters.push({
      seq: msg.seq,
      stream,
      time: msg.time.toISOString(),
      ...optional("originalSubject", h?.get(DeadLetterHeader.OriginalSubject)),
      ...optional("error", h?.get(DeadLetterHeader.Error)),
      ...optional("runId", h?.get(DeadLetterHeader.RunId)),
      ...(count ? { deliveryCount: Number(count) } : {}),
      ...optional("workflow", h?.get(DeadLetterHeader.Workflow)),
      headers: all,
      data: msg.data,
    });
  }
  return letters;
}

/**
 * Republishes dead letters to their original subject (original headers, without the
 * dead-letter ones and the original message id, plus `Pipedreamer-Replayed-From`), then deletes
 * each from the dead-letter stream, so a replay is never repeated. The republished message gets
 * a new stream sequence, hence a new run.
 *
 * @returns the dead letters replayed, with the sequence each got on its original subject
 * @throws {Error} when no stream stores `subject` or a republish is refused
 * @example
 * ```ts
 * const replayed = await replayDeadLetters(nc, "events.github.push.dlq", { limit: 5 });
 * ```
 */
export async function replayDeadLetters(
  nc: NatsConnection,
  subject: string,
  options: DeadLetterQueryOptions = {},
): Promise<(DeadLetter & { replayedSeq: number })[]> {
  const letters = await listDeadLetters(nc, subject, options);
  const jsm = await jetstreamManager(nc);
  const js = jsm.jetstream();
  const replayed: (DeadLetter & { replayedSeq: number })[] = [];
  for (const letter of letters) {
    if (!letter.originalSubject) {
      throw new Error(
        `Cannot replay dead letter ${letter.seq} of "${subject}": it has no ` +
          `${DeadLetterHeader.OriginalSubject} header (it was not written by pipedreamer)`,
      );
    }
    const h = natsHeaders();
    for (const [key, value] of Object.entries(letter.headers)) {
      if (!isDeadLetterHeader(key) && !key.toLowerCase().startsWith("nats-")) h.set(key, value);
    }
    h.set(DeadLetterHeader.ReplayedFrom, `${letter.stream}:${letter.seq}`);
    const ack = await js.publish(letter.originalSubject, letter.data, { headers: h });
    await jsm.streams.deleteMessage(letter.stream, letter.seq, false);
    replayed.push({ ...letter, replayedSeq: ack.seq });
  }
  return replayed;
}

/** Name of the stream that stores `subject`. */
export async function findStream(
  jsm: { streams: { find(subject: string): Promise<string> } },
  subject: string,
): Promise<string> {
  try {
    return await jsm.streams.find(subject);
  } catch (error) {
    throw new Error(
      `Cannot read "${subject}": no JetStream stream stores it; check the subject ` +
        `(dead letters default to <subject>.dlq)`,
      { cause: error },
    );
  }
}

function copyHeaders(source: MsgHdrs | undefined): MsgHdrs {
  const h = natsHeaders();
  for (const [key, values] of source ?? []) {
    // Nats-Msg-Id & co. belong to the original publish; dedup would drop the dead letter.
    if (key.toLowerCase().startsWith("nats-")) continue;
    for (const value of values) h.append(key, value);
  }
  return h;
}

function isDeadLetterHeader(key: string): boolean {
  return Object.values(DeadLetterHeader).some((h) => h.toLowerCase() === key.toLowerCase());
}

/** Header values are one line. */
function headerValue(text: string): string {
  const line = text.replace(/[\r\n]+/g, " ").trim();
  return line.length > MAX_HEADER_VALUE ? `${line.slice(0, MAX_HEADER_VALUE - 1)}…` : line;
}

function optional<K extends string>(key: K, value: string | undefined) {
  return (value ? { [key]: value } : {}) as Partial<Record<K, string>>;
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`Cannot read dead letters: limit ${limit} must be a positive integer`);
  }
  return limit;
}
