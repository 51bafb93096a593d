import type { Context } from "pipedreamer";

export default async function repos(ctx: Context, input: { sum: number }) {
  const res = await ctx.fetch("github", "/user/repos");
  return { sum: input.sum, repos: await res.json() };
}
