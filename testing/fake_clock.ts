/**
 * A manually advanced {@link Clock} for tests of time-dependent logic (backoff, timeouts, cron,
 * debounce) in any layer.
 *
 * @module
 */

import type { Clock } from "../engine/mod.ts";

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock whose time moves only when {@link FakeClock.advance} is called. Every `sleep()` is
 * recorded in {@link FakeClock.sleeps}.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock();
 * const done = clock.sleep(100);
 * await clock.advance(100);
 * await done;
 * ```
 */
export class FakeClock implements Clock {
  /** Requested duration of every `sleep()` call, in call order. */
  readonly sleeps: number[] = [];
  #now: number;
  #seq = 0;
  #sleepers: Sleeper[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  /** @param start Initial time in epoch milliseconds. @default Date.UTC(2025, 0, 1) */
  constructor(start: number = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  /** Current fake time in epoch milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Number of sleeps neither resolved nor aborted yet. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Resolves after fake `ms`, or rejects with `signal.reason` when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = {
        due: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#remove(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#notify();
    });
  }

  /**
   * Moves time forward by `ms`, resolving due sleeps in order of due time and letting the
   * code they wake up run (and start new sleeps) before the next one is resolved.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flush();
      const next = this.#next();
      if (!next || next.due > target) break;
      this.#remove(next);
      this.#now = Math.max(this.#now, next.due);
      next.resolve();
    }
    this.#now = target;
    await flush();
  }

  /**
   * Moves time forward by `ms` at once, without yielding: every sleep due by then is resolved
   * in due order, and the code it wakes runs later, like any promise callback. For tests that
   * must attach handlers (or call code that reads `now()`) right after moving time.
   */
  tick(ms: number): void {
    this.#now += ms;
    for (let next = this.#next(); next && next.due <= this.#now; next = this.#next()) {
      this.#remove(next);
      next.resolve();
    }
  }

  /** Resolves once at least `count` sleeps are pending (waits on the condition, not time). */
  waitForSleepers(count = 1): Promise<void> {
    if (this.#sleepers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  #next(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (!best || s.due < best.due || (s.due === best.due && s.seq < best.seq)) best = s;
    }
    return best;
  }

  #remove(sleeper: Sleeper): void {
    const i = this.#sleepers.indexOf(sleeper);
    if (i >= 0) this.#sleepers.splice(i, 1);
  }

  #notify(): void {
    const ready = this.#waiters.filter((w) => this.#sleepers.length >= w.count);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => this.#sleepers.length < w.count);
    for (const w of ready) w.resolve();
  }
}

/** Lets every pending promise callback run: one real macrotask turn. */
function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
