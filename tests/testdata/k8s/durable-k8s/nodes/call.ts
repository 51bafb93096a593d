import type { Context } from "pipedreamer";

/**
 * Reports this node's execution to the test's server (`config.callbackUrl`), which counts it
 * and answers when the test releases the node; the answer is the node's output.
 */
export default async function call(ctx: Context, input: unknown) {
  ctx.log.info(`calling back for ${ctx.node}`, { attempt: ctx.attempt });
  ctx.progress(0.5, "waiting for the test");
  const response = await fetch(`${ctx.config.callbackUrl}/${ctx.node}?run=${ctx.runId}`, {
    method: "POST",
    body: JSON.stringify(input ?? null),
    signal: ctx.signal,
  });
  const answer = await response.json();
  ctx.log.info(`released ${ctx.node}`);
  return { ...(typeof input === "object" && input !== null ? input : {}), [ctx.node]: answer };
}
