import type { Context } from "pipedreamer";

/**
 * One element: reports itself to the test's server (`/each-<i>`) when asked, then waits on the
 * server's held `/held` route when asked; returns 2 i.
 */
export default async function each(
  ctx: Context,
  item: { i: number; call: boolean; hold: boolean },
) {
  if (ctx.item?.index !== item.i) throw new Error(`ctx.item.index ${ctx.item?.index} != ${item.i}`);
  if (item.call) {
    const base = `${ctx.config.callbackUrl}`;
    await (await fetch(`${base}/each-${item.i}?run=${ctx.runId}`, {
      method: "POST",
      signal: ctx.signal,
    })).body?.cancel();
    if (item.hold) {
      await (await fetch(`${base}/held?run=${ctx.runId}`, { method: "POST", signal: ctx.signal }))
        .body?.cancel();
    }
  }
  return item.i * 2;
}
