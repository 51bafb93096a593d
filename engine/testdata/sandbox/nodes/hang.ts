import type { Context } from "pipedreamer";

/** Ignores ctx.signal and never settles, without blocking the event loop. */
export default function run(ctx: Context) {
  ctx.log.info("hanging");
  return new Promise(() => {});
}
