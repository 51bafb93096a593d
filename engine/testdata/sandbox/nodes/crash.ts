import type { Context } from "pipedreamer";

/** Throws from a timer: an uncaught error that crashes its worker. */
export default function run(ctx: Context) {
  ctx.log.info("crashing");
  setTimeout(() => {
    throw new Error("uncaught boom");
  }, 0);
  return new Promise(() => {});
}
