import type { Context } from "pipedreamer";

/**
 * Reports the job to the test's server (`config.callbackUrl`), naming this replica, and
 * returns when the test lets it.
 */
export default async function work(ctx: Context, input: { id: number }) {
  const url = `${ctx.config.callbackUrl}/work?run=${ctx.runId}&replica=${ctx.config.replica}` +
    `&id=${input.id}`;
  const response = await fetch(url, { method: "POST", signal: ctx.signal });
  await response.body?.cancel();
  return { id: input.id, replica: ctx.config.replica };
}
