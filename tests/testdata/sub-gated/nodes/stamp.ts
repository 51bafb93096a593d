import type { Context } from "pipedreamer";

/** Counted by the test's server (`POST /stamp?run=<id>`); passes its input on. */
export default async function stamp(ctx: Context, input: unknown) {
  const url = `${ctx.config.callbackUrl}/stamp?run=${ctx.runId}`;
  await (await fetch(url, { method: "POST", signal: ctx.signal })).body?.cancel();
  return input ?? {};
}
