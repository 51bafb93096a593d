import type { Context } from "pipedreamer";

/**
 * Fails its first `input.failures` attempts (default 1), like a service that needs a retry.
 * ctx.attempt is 1-based, so the retries in workflow.yaml decide whether the run survives.
 */
export default function flaky(ctx: Context, input: { failures?: number } | undefined) {
  const failures = input?.failures ?? 1;
  if (ctx.attempt <= failures) {
    ctx.log.warn("simulated failure", { attempt: ctx.attempt });
    throw new Error(`flaky: simulated failure on attempt ${ctx.attempt} of ${failures + 1} needed`);
  }
  return { succeededOnAttempt: ctx.attempt };
}
