import type { Context } from "pipedreamer";

/** Calls a service through ctx.fetch and returns what came back. */
export default async function run(
  ctx: Context,
  input: { service: string; path: string; init?: RequestInit },
) {
  const res = await ctx.fetch(input.service, input.path, input.init);
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    body: await res.text(),
  };
}
