/**
 * `waitFor()`: the one way tests wait for something to happen — poll a condition, never sleep.
 *
 * @module
 */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds of real time. @default 15_000 */
  timeoutMs?: number;
  /** Real milliseconds between checks; 0 re-checks after every macrotask turn. @default 0 */
  intervalMs?: number;
}

/**
 * Resolves once `condition()` holds, checking it again every `intervalMs`.
 *
 * @throws {Error} "Cannot wait any longer for <what>" after `timeoutMs`
 * @example
 * ```ts
 * import { waitFor } from "./wait_for.ts";
 * const started: string[] = [];
 * setTimeout(() => started.push("a"), 1);
 * await waitFor(() => started.length === 1, "a to start");
 * ```
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Cannot wait any longer for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 0));
  }
}
