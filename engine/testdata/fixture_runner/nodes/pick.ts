import type { Context } from "pipedreamer";

export default function pick(ctx: Context, input: { side: string }) {
  ctx.route(input.side);
  const svc = ctx.secrets.svc;
  return {
    greeting: ctx.config.greeting,
    token: typeof svc === "object" ? svc.token : undefined,
    side: input.side,
  };
}
