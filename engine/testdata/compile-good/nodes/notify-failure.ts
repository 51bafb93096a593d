import type { Context } from "pipedreamer";

export default function run(ctx: Context, failure: { failedNode: string }) {
  ctx.log.error("run failed", { node: failure.failedNode });
  return null;
}
