import type { Context } from "pipedreamer";

/** One branch of the fan-out: a single parent, so the input is greet's output. */
export default function shout(ctx: Context, input: { greeting: string }) {
  ctx.log.debug("shouting");
  return { shouted: input.greeting.toUpperCase() };
}
