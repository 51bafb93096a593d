import type { Context } from "pipedreamer";

/** Posts the digest to a Slack incoming webhook (`slack.webhook_path` secret). */
export default async function postSlack(
  ctx: Context,
  input: { repo: string; count: number; summary: string },
) {
  const slack = ctx.secrets.slack;
  const path = typeof slack === "object" ? slack.webhook_path : undefined;
  if (typeof path !== "string") {
    throw new Error("Cannot post to Slack: add slack.webhook_path to .secrets.yaml");
  }
  const text = `*${input.repo}*: ${input.count} open pull requests\n${input.summary}`;
  const res = await ctx.fetch("slack", path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text }),
  });
  if (!res.ok) throw new Error(`Cannot post to Slack: HTTP ${res.status}`);
  return { posted: true, count: input.count };
}
