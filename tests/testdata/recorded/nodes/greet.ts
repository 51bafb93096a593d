import type { Context } from "pipedreamer";

/** Greets `input.name` with the configured punctuation; logs (redacted) that it holds a token. */
export default function greet(ctx: Context, input: { name: string }) {
  const token = (ctx.secrets.svc as { token?: string } | undefined)?.token ?? "";
  ctx.log.info(`greeting ${input.name} with token ${token}`);
  return { greeting: `Hello, ${input.name}${ctx.config.punctuation}`, chars: input.name.length };
}
