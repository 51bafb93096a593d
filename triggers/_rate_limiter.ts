/**
 * A token bucket that paces run starts (`rateLimit: 10/s`), on an injectable clock.
 *
 * @module
 */

import type { Clock } from "../engine/mod.ts";

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens the bucket holds at most (starts allowed back to back). @default 1 */
  burst?: number;
}

/**
 * Token bucket: `count` tokens per `perMs`, refilled continuously, holding at most `burst`
 * (1 by default: starts are evenly spaced, `10/s` → one every 100 ms). The bucket starts full.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ count: 10, perMs: 1000 }, systemClock);
 * await limiter.ready();   // resolves once a token is available
 * limiter.tryTake();       // true
 * ```
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #msPerToken: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  /** @throws {RangeError} for a non-positive count, period or burst */
  constructor(
    rate: { count: number; perMs: number },
    clock: Clock,
    options: RateLimiterOptions = {},
  ) {
    if (!(rate.count > 0) || !(rate.perMs > 0)) {
      throw new RangeError(
        `Cannot create a rate limiter: rate ${rate.count}/${rate.perMs}ms must be positive`,
      );
    }
    const burst = options.burst ?? 1;
    if (!(burst >= 1)) {
      throw new RangeError(`Cannot create a rate limiter: burst ${burst} must be at least 1`);
    }
    this.#clock = clock;
    this.#msPerToken = rate.perMs / rate.count;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = clock.now();
  }

  /** Whole tokens available now. */
  available(): number {
    this.#refill();
    return Math.floor(this.#tokens + 1e-9);
  }

  /** Takes a token when one is available. */
  tryTake(): boolean {
    if (this.available() < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0: now). */
  waitMs(): number {
    this.#refill();
    return this.#tokens + 1e-9 >= 1 ? 0 : Math.ceil((1 - this.#tokens) * this.#msPerToken);
  }

  /** Resolves once a token is available (without taking it); rejects when `signal` aborts. */
  async ready(signal?: AbortSignal): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) {
      await this.#clock.sleep(wait, signal);
    }
    signal?.throwIfAborted();
  }

  #refill(): void {
    const now = this.#clock.now();
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) / this.#msPerToken);
    }
    this.#at = Math.max(this.#at, now);
  }
}
