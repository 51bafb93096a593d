import type { Context } from "pipedreamer";

/** Ids of the current top stories, cut to `input.limit` (or `config.limit`). */
export default async function fetchTop(ctx: Context, input: { limit?: number } | undefined) {
  const limit = input?.limit ?? Number(ctx.config.limit ?? 5);
  const res = await ctx.fetch("hn", "/v0/topstories.json");
  if (!res.ok) throw new Error(`Cannot list top stories: HTTP ${res.status}`);
  const ids = (await res.json()) as number[];
  ctx.log.info("top stories listed", { total: ids.length, limit });
  return { ids: ids.slice(0, limit) };
}
