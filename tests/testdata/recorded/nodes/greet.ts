import type { Context } from "pipedreamer";

/**
 * Greets `input.name` with the title the "svc" service gives (a recorded ctx.fetch) and the
 * configured punctuation; logs (redacted) that it holds a token.
 */
export default async function greet(ctx: Context, input: { name: string }) {
  const token = (ctx.secrets.svc as { token?: string } | undefined)?.token ?? "";
  ctx.log.info(`greeting ${input.name} with token ${token}`);
  const response = await ctx.fetch("svc", `/titles/${input.name}?lang=en`);
  const { title } = await response.json() as { title: string };
  return {
    greeting: `Hello, ${title} ${input.name}${ctx.config.punctuation}`,
    chars: input.name.length,
  };
}
