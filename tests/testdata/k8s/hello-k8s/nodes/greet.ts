import type { Context } from "pipedreamer";

/** Builds a greeting from the run input and the runtime config; fails when asked to. */
export default function greet(ctx: Context, input: { name?: string; fail?: boolean } | undefined) {
  if (input?.fail) throw new Error("asked to fail");
  return { text: `${String(ctx.config.greeting ?? "Hello")}, ${input?.name ?? "world"}` };
}
