/**
 * The wait between a failed attempt and its retry, shared by node retries and map-element
 * retries.
 *
 * @module
 */

import { backoffDelay } from "./_backoff.ts";
import type { Run } from "./_run.ts";
import { FailureKind, NodeFailure } from "../errors.ts";

/**
 * Sleeps the backoff before retry number `retry` (1 = before attempt 2). Resolves with
 * `undefined` when the retry may start, or with the cancellation failure
 * (`Cannot retry <what>: <why the run stops>`) when `stop` aborts first.
 */
export async function waitToRetry(
  run: Run,
  retry: number,
  options: { stop: AbortSignal | undefined; what: string },
): Promise<NodeFailure | undefined> {
  const { ctx } = run;
  const { stop } = options;
  try {
    await ctx.clock.sleep(
      backoffDelay(retry, { ...ctx.workflow.settings, random: ctx.random }),
      stop,
    );
    if (stop?.aborted) throw stop.reason;
  } catch {
    return new NodeFailure(`Cannot retry ${options.what}: ${run.stop.why}`, {
      kind: FailureKind.Cancelled,
    });
  }
  return undefined;
}
