import type { Context } from "pipedreamer";

/** An item of the Hacker News API. */
export interface Story {
  id: number;
  title: string;
  url?: string;
  score: number;
  by: string;
  descendants?: number;
}

/** Fetches every story at once (the node's own concurrency, inside one attempt). */
export default async function fetchStories(ctx: Context, input: { ids: number[] }) {
  const stories = await Promise.all(input.ids.map(async (id) => {
    const res = await ctx.fetch("hn", `/v0/item/${id}.json`);
    if (!res.ok) throw new Error(`Cannot fetch story ${id}: HTTP ${res.status}`);
    return (await res.json()) as Story;
  }));
  ctx.log.info("stories fetched", { count: stories.length });
  return { stories };
}
