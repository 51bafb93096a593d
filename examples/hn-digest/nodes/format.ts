import type { Context } from "pipedreamer";
import type { Story } from "./fetch-stories.ts";

/** Renders the digest as Markdown lines, best score first. */
export default function format(_ctx: Context, input: { stories: Story[] }) {
  const stories = [...input.stories].sort((a, b) => b.score - a.score);
  const lines = stories.map((s, i) =>
    `${i + 1}. [${s.title}](${s.url ?? `https://news.ycombinator.com/item?id=${s.id}`}) ` +
    `— ${s.score} points by ${s.by}, ${s.descendants ?? 0} comments`
  );
  return { count: stories.length, markdown: ["# Hacker News digest", ...lines].join("\n") };
}
