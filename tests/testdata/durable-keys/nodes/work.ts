import type { Context } from "pipedreamer";

/** Calls `/<tenant>-<i>` on the test's server, which answers when the test releases it. */
export default async function work(ctx: Context, input: { tenant: string; i: number }) {
  const response = await fetch(
    `${ctx.config.callbackUrl}/${input.tenant}-${input.i}?run=${ctx.runId}`,
    {
      method: "POST",
      signal: ctx.signal,
    },
  );
  await response.body?.cancel();
  return input;
}
