import type { Context } from "pipedreamer";

/** Waits for ctx.signal, logs its reason, then rethrows it. */
export default async function run(ctx: Context) {
  ctx.log.info("waiting");
  await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
  const reason = ctx.signal.reason as DOMException;
  ctx.log.info("aborted", { name: reason.name, isDomException: reason instanceof DOMException });
  throw reason;
}
