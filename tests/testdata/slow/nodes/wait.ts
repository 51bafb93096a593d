import type { Context } from "pipedreamer";

/** Logs, then waits until ctx.signal aborts. */
export default async function wait(ctx: Context) {
  ctx.log.info("waiting for cancellation");
  await new Promise((_resolve, reject) => {
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
}
