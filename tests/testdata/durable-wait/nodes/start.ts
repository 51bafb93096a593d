import type { Context } from "pipedreamer";

/** Passes the run input on, stamped with this run's id. */
export default function start(ctx: Context, input: unknown) {
  return { input, runId: ctx.runId };
}
