import type { Context } from "pipedreamer";

export default async function run(ctx: Context, input: { user?: string }) {
  const res = await ctx.fetch("github", `/users/${input.user ?? "octocat"}/repos`);
  return await res.json();
}
