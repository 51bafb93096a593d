import type { Context } from "pipedreamer";

/** Spins forever (ignoring ctx.signal) when `input.spin`, else waits for `input.release`. */
export default async function run(ctx: Context, input: { spin?: boolean; ms?: number }) {
  ctx.log.info("started");
  if (input.spin) {
    await new Promise((resolve) => setTimeout(resolve, input.ms ?? 0));
    for (;;) {
      // Busy: this sandbox's event loop never runs again.
    }
  }
  await new Promise((resolve) => setTimeout(resolve, input.ms ?? 0));
  return `done on attempt ${ctx.attempt}`;
}
