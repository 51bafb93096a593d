/**
 * Cancellable timers on an injectable {@link Clock} (fake in tests).
 *
 * @module
 */

import type { Clock } from "../engine/mod.ts";

/** Calls `fire` after `ms` on `clock`; the returned function cancels it. */
export function startTimeout(clock: Clock, ms: number, fire: () => void): () => void {
  const controller = new AbortController();
  clock.sleep(Math.max(0, ms), controller.signal).then(() => {
    if (!controller.signal.aborted) fire();
  }, () => {});
  return () => controller.abort();
}

/** Resolves after `ms`, or at once (without error) when `signal` aborts. */
export function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return clock.sleep(Math.max(0, ms), signal).catch(() => {});
}
