import type { Context } from "pipedreamer";

/** Ignores ctx.signal in a busy loop. */
export default function run(ctx: Context) {
  ctx.log.info("looping");
  for (;;) {
    // Busy: the worker's event loop never runs again.
  }
}
