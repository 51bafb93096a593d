/**
 * Retry delays: exponential backoff with jitter.
 *
 * @module
 */

/** Fraction of the delay the jitter may add or remove (±20%). */
export const BACKOFF_JITTER = 0.2;

/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first retry; doubles for each further retry. */
  backoffMs: number;
  /** Upper bound of every delay, jitter included. */
  maxBackoffMs: number;
  /** Source of jitter in [0, 1); 0.5 means no jitter. @default Math.random */
  random?: () => number;
}

/**
 * The delay before retry number `retry` (1 = the delay between attempt 1 and attempt 2):
 * `min(backoffMs * 2^(retry-1), maxBackoffMs)`, scaled by a factor in [0.8, 1.2) drawn from
 * `random`, never above `maxBackoffMs`.
 *
 * @throws {RangeError} when `retry` is not a positive integer
 * @example
 * ```ts
 * import { backoffDelay } from "./_backoff.ts";
 * backoffDelay(3, { backoffMs: 200, maxBackoffMs: 30_000, random: () => 0.5 }); // 800
 * ```
 */
export function backoffDelay(retry: number, options: BackoffOptions): number {
  if (!Number.isInteger(retry) || retry < 1) {
    throw new RangeError(`Cannot compute backoff: retry must be a positive integer, got ${retry}`);
  }
  const base = Math.min(options.backoffMs * 2 ** (retry - 1), options.maxBackoffMs);
  const factor = 1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * (options.random ?? Math.random)();
  return Math.max(0, Math.min(Math.round(base * factor), options.maxBackoffMs));
}
