/**
 * The real clock and the timer helper the executor uses for per-attempt timeouts.
 *
 * @module
 */

import { addDeadline } from "./_deadlines.ts";
import type { Clock } from "../runner_protocol.ts";

/** setTimeout fires at once for delays above this (2^31 - 1 ms); longer delays are clamped. */
const MAX_TIMER_MS = 2_147_483_647;

function clampDelay(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
}

/**
 * The wall clock: `Date.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * import { systemClock } from "./_clock.ts";
 * await systemClock.sleep(10);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(id);
        reject(signal?.reason);
      };
      const id = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, clampDelay(ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * Calls `fire` after `ms` on `clock`; the returned function cancels it. The system clock uses
 * one shared timer per delay (see `addDeadline`: no timer, promise or AbortController per
 * call), any other clock its `sleep()`.
 */
export function startTimer(clock: Clock, ms: number, fire: () => void): () => void {
  if (clock === systemClock) return addDeadline(clampDelay(ms), fire);
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(fire, () => {});
  return () => controller.abort();
}
