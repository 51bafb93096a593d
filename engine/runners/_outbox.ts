/**
 * Coalesces the messages one side of a worker boundary sends in one turn into a single
 * `postMessage`. Posting to a worker is the dominant cost of a warm node call (it wakes the
 * other thread), so when a fan-out starts 16 nodes, or a worker finishes 16 calls, in the same
 * turn, one message carries them all. A lone message (a chain) goes out a few microtasks later
 * than it would alone; order is always kept.
 *
 * @module
 */

/** Several messages in one post, in order. */
export interface BatchMessage<T> {
  t: "batch";
  messages: T[];
}

/** Options of {@link Outbox}. */
export interface OutboxOptions<T> {
  /** Posts one message or one batch (structured clone; may throw, e.g. a DataCloneError). */
  post(message: T | BatchMessage<T>): void;
  /** A message that could not be posted, with the error. The others are posted. */
  failed(message: T, error: unknown): void;
  /**
   * Microtask turns without a new message before the queue is posted: the code that reacts to
   * a batch of results runs through several promise hops before it sends its next calls.
   * @default 0
   */
  quietHops?: number;
}

/** Queues messages and posts them together once the current turn's microtasks settle. */
export class Outbox<T> {
  #options: OutboxOptions<T>;
  #queue: T[] = [];
  #scheduled = false;
  #quiet = 0;

  constructor(options: OutboxOptions<T>) {
    this.#options = options;
  }

  /** Queues `message`; it is posted with the others of this turn. */
  send(message: T): void {
    this.#queue.push(message);
    this.#quiet = 0;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#tick);
    }
  }

  /** Drops every queued message (the other side is gone). */
  clear(): void {
    this.#queue = [];
  }

  #tick = (): void => {
    if (this.#quiet++ < (this.#options.quietHops ?? 0)) {
      queueMicrotask(this.#tick);
      return;
    }
    this.#scheduled = false;
    this.flush();
  };

  /** Posts the queued messages now. */
  flush(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const { post, failed } = this.#options;
    try {
      post(queue.length === 1 ? queue[0]! : { t: "batch", messages: queue });
      return;
    } catch (error) {
      if (queue.length === 1) return failed(queue[0]!, error);
    }
    // One of them cannot be cloned: post one by one so only that one fails.
    for (const message of queue) {
      try {
        post(message);
      } catch (error) {
        failed(message, error);
      }
    }
  }
}
