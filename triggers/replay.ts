/**
 * `replayStream()`: re-runs the messages a stream stored on a subject since a time, by
 * republishing them to their subject (new stream sequences, hence new runs through the same
 * trigger, with its concurrency, rate limit and dead letters). Backs `pipedreamer replay`.
 *
 * @module
 */

import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { readStream } from "./_read_stream.ts";
import { findStream } from "./dead_letter.ts";

/** Header of a replayed message: `<stream>:<sequence>` of the message it copies. */
export const REPLAY_OF_HEADER = "Pipedreamer-Replay-Of";

/** Options of {@link replayStream}. */
export interface ReplayStreamOptions {
  /** Replay messages stored at or after this time. */
  since: Date;
  /** Only messages stored before this time. @default undefined (up to the newest) */
  until?: Date;
  /** At most this many messages. @default Infinity */
  limit?: number;
  /** The stream; found from the subject when absent. @default undefined */
  stream?: string;
  /** Count what would be replayed without publishing. @default false */
  dryRun?: boolean;
}

/** One message replayed. */
export interface ReplayedMessage {
  subject: string;
  /** Sequence of the original message. */
  seq: number;
  time: string;
  /** Sequence of the copy (undefined with `dryRun`). */
  replayedSeq?: number;
}

/**
 * Republishes the stored messages of `subject` (wildcards allowed) since a time, oldest first,
 * with their original headers except the message id (which would make the copy a duplicate).
 * Only messages stored before the replay began are read, so copies are never replayed again.
 *
 * @throws {RangeError} for an invalid date or limit
 * @throws {Error} when no stream stores `subject`
 * @example
 * ```ts
 * const replayed = await replayStream(nc, "events.github.push", {
 *   since: new Date(Date.now() - 3_600_000),
 * });
 * console.log(`${replayed.length} messages replayed`);
 * ```
 */
export async function replayStream(
  nc: NatsConnection,
  subject: string,
  options: ReplayStreamOptions,
): Promise<ReplayedMessage[]> {
  if (Number.isNaN(options.since.getTime())) {
    throw new RangeError("Cannot replay: since is not a valid date");
  }
  if (options.until && Number.isNaN(options.until.getTime())) {
    throw new RangeError("Cannot replay: until is not a valid date");
  }
  const limit = options.limit ?? Infinity;
  if (!(limit >= 1)) throw new RangeError(`Cannot replay: limit ${limit} must be at least 1`);
  const jsm = await jetstreamManager(nc);
  const js = jsm.jetstream();
  const stream = options.stream ?? await findStream(jsm, literalPrefix(subject));
  const replayed: ReplayedMessage[] = [];
  const read = readStream(js, stream, subject, {
    since: options.since,
    ...(options.until ? { until: options.until } : {}),
    limit,
  });
  for await (const msg of read) {
    const entry: ReplayedMessage = {
      subject: msg.subject,
      seq: msg.seq,
      time: msg.time.toISOString(),
    };
    if (!options.dryRun) {
      const h = natsHeaders();
      for (const [key, values] of msg.headers ?? []) {
        if (key.toLowerCase().startsWith("nats-")) continue;
        for (const value of values) h.append(key, value);
      }
      h.set(REPLAY_OF_HEADER, `${stream}:${msg.seq}`);
      const ack = await js.publish(msg.subject, msg.data, { headers: h });
      entry.replayedSeq = ack.seq;
    }
    replayed.push(entry);
  }
  return replayed;
}

/** `streams.find()` needs a concrete subject: wildcards become a literal token. */
function literalPrefix(subject: string): string {
  return subject.split(".").map((token) => token === "*" || token === ">" ? "x" : token).join(
    ".",
  );
}
