import type { Context } from "pipedreamer";

/** Builds a greeting from the run input and the runtime config. */
export default function greet(ctx: Context, input: { name?: string } | undefined) {
  return { text: `${String(ctx.config.greeting ?? "Hello")}, ${input?.name ?? "world"}` };
}
