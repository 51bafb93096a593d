/**
 * Reads the stored messages of one subject with an ordered (ephemeral) consumer, from a start
 * time or the beginning, up to what the stream held when reading began, so messages published
 * meanwhile (e.g. by the replay itself) are never read.
 *
 * @module
 */

import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";

/** Options of {@link readStream}. */
export interface ReadStreamOptions {
  /** Only messages stored at or after this time. @default undefined (from the first message) */
  since?: Date;
  /** Only messages stored before this time. @default undefined (up to the last message) */
  until?: Date;
  /** At most this many messages. @default Infinity */
  limit?: number;
  /** How long one pull waits for messages that the server said are pending. @default 5_000 */
  expiresMs?: number;
}

/** Yields the messages of `subject` in `stream`, oldest first. */
export async function* readStream(
  js: JetStreamClient,
  stream: string,
  subject: string,
  options: ReadStreamOptions = {},
): AsyncGenerator<JsMsg> {
  const limit = options.limit ?? Infinity;
  const consumer = await js.consumers.get(stream, {
    filter_subjects: subject,
    ...(options.since
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: options.since.toISOString() }
      : { deliver_policy: DeliverPolicy.All }),
  });
  let pending = (await consumer.info(false)).num_pending;
  let read = 0;
  while (pending > 0 && read < limit) {
    const messages = await consumer.fetch({
      max_messages: Math.min(pending, limit - read, 256),
      expires: options.expiresMs ?? 5_000,
    });
    let got = 0;
    for await (const msg of messages) {
      got++;
      pending = msg.info.pending;
      if (options.until && msg.time >= options.until) {
        pending = 0;
        messages.stop();
        break;
      }
      read++;
      yield msg;
      if (pending === 0 || read >= limit) {
        messages.stop();
        break;
      }
    }
    if (got === 0) break; // the messages went away (purged, expired) while reading
  }
  await consumer.delete().catch(() => {}); // ordered consumers also expire on their own
}
