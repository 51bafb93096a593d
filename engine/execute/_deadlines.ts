/**
 * Attempt timeouts on the system clock without one `setTimeout` per attempt. Every attempt arms
 * a timeout and almost every one is cancelled a few microseconds later; creating and clearing a
 * timer costs more than the rest of the executor's work for a no-op node. Timeouts of one length
 * expire in the order they were armed (a monotonic clock plus a fixed delay), so each length
 * keeps a FIFO queue and one timer, armed for its oldest live entry. Cancelling marks the entry;
 * the timer skips marked entries when it fires.
 *
 * While a queue has no live entry its timer is unref'd: it never keeps the process alive, and an
 * armed timeout does (as a plain `setTimeout` would).
 *
 * @module
 */

interface Entry {
  /** `performance.now()` at which it expires. */
  at: number;
  /** Undefined once fired or cancelled. */
  fire: (() => void) | undefined;
}

/** Entries dropped from the front are compacted away past this many. */
const COMPACT_AFTER = 1024;

class DeadlineQueue {
  readonly #ms: number;
  #entries: Entry[] = [];
  #head = 0;
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Inside `#expire()`: it re-arms the timer itself when done. */
  #expiring = false;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add(fire: () => void): () => void {
    const entry: Entry = { at: performance.now() + this.#ms, fire };
    this.#entries.push(entry);
    if (++this.#live === 1 && this.#timer !== undefined) Deno.refTimer(this.#timer);
    // An armed timer expires no later than this entry: deadlines only grow.
    if (this.#timer === undefined && !this.#expiring) this.#arm(entry.at);
    return () => {
      if (entry.fire === undefined) return;
      entry.fire = undefined;
      if (--this.#live === 0 && !this.#expiring) this.#idle();
    };
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - performance.now()));
    if (this.#live === 0) Deno.unrefTimer(this.#timer);
  }

  /** No live entry: drop the cancelled ones, and let the timer not hold the process. */
  #idle(): void {
    this.#entries = [];
    this.#head = 0;
    if (this.#timer !== undefined) Deno.unrefTimer(this.#timer);
  }

  #expire(): void {
    this.#timer = undefined;
    this.#expiring = true;
    const now = performance.now();
    try {
      while (this.#head < this.#entries.length) {
        const entry = this.#entries[this.#head]!;
        if (entry.fire !== undefined && entry.at > now) break;
        this.#head++;
        const fire = entry.fire;
        if (fire === undefined) continue;
        entry.fire = undefined;
        this.#live--;
        try {
          fire();
        } catch (error) {
          // Report it as an uncaught error, as a throwing timer callback would, and go on.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    } finally {
      this.#expiring = false;
    }
    if (this.#live === 0) {
      this.#idle();
      return;
    }
    while (this.#entries[this.#head]!.fire === undefined) this.#head++;
    if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    this.#arm(this.#entries[this.#head]!.at);
  }
}

const queues = new Map<number, DeadlineQueue>();

/**
 * Calls `fire` once, `ms` milliseconds from now (a finite, non-negative delay), unless the
 * returned function is called first.
 */
export function addDeadline(ms: number, fire: () => void): () => void {
  let queue = queues.get(ms);
  if (!queue) queues.set(ms, queue = new DeadlineQueue(ms));
  return queue.add(fire);
}
