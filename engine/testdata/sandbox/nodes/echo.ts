import type { Context } from "pipedreamer";

/** Echoes its input and context, logs, reports progress and routes as asked. */
export default function run(ctx: Context, input: { routes?: string[] } | null) {
  ctx.log.info("echo", { input });
  ctx.progress(0.5, "half way");
  if (input?.routes) ctx.route(...input.routes);
  return {
    input,
    runId: ctx.runId,
    node: ctx.node,
    attempt: ctx.attempt,
    config: ctx.config,
    secrets: ctx.secrets,
    tmpDir: ctx.tmpDir,
  };
}
