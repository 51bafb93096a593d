import type { Context } from "pipedreamer";

/** Returns which engine ran it; fails when asked to (failure rates). */
export default function work(ctx: Context, input: { id?: number; fail?: boolean }) {
  if (input.fail) throw new Error(`asked to fail on ${ctx.config.engine}`);
  return { id: input.id ?? null, engine: ctx.config.engine };
}
