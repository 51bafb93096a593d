import type { Context } from "pipedreamer";

/**
 * Reports this node's execution to the test's counter (`config.callbackUrl`); a non-2xx answer
 * fails the attempt with the counter's message.
 */
export default async function call(ctx: Context, input: unknown) {
  ctx.log.info(`calling the counter from ${ctx.node}`);
  const response = await fetch(`${ctx.config.callbackUrl}/${ctx.node}?run=${ctx.runId}`, {
    method: "POST",
    signal: ctx.signal,
  });
  const text = await response.text();
  if (!response.ok) {
    ctx.log.warn(`the counter refused ${ctx.node}`, { status: response.status });
    throw new Error(`${ctx.node}: the counter answered ${response.status}: ${text}`);
  }
  return {
    ...(typeof input === "object" && input !== null ? input : {}),
    [ctx.node]: JSON.parse(text),
  };
}
