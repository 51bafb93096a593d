import type { Context } from "pipedreamer";

/**
 * Creates an "invoice" at the test's server inside `ctx.step` (counted there), then fails its
 * first attempt or waits on the server's held `/held` route when the input asks for it.
 */
export default async function charge(ctx: Context, input: { failOnce?: boolean; hold?: boolean }) {
  const base = `${ctx.config.callbackUrl}`;
  const invoice = await ctx.step("invoice", async () => {
    const response = await fetch(`${base}/invoice?run=${ctx.runId}`, {
      method: "POST",
      signal: ctx.signal,
    });
    return await response.json();
  });
  if (input.failOnce && ctx.attempt === 1) throw new Error("flaky after the step");
  if (input.hold) {
    await (await fetch(`${base}/held?run=${ctx.runId}`, { method: "POST", signal: ctx.signal }))
      .body?.cancel();
  }
  return { invoice, attempt: ctx.attempt };
}
