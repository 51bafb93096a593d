import type { Context } from "pipedreamer";

/**
 * Posts to a Slack incoming webhook. The webhook path is a secret
 * (`slack.webhook_path: /services/T…/B…/…` in .secrets.yaml), never part of the workflow.
 */
export default async function postSlack(ctx: Context, input: { text: string; repos: number }) {
  const slack = ctx.secrets.slack;
  const path = typeof slack === "object" ? slack.webhook_path : undefined;
  if (typeof path !== "string") {
    throw new Error("Cannot post to Slack: add slack.webhook_path to .secrets.yaml");
  }
  const res = await ctx.fetch("slack", path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: input.text }),
  });
  if (!res.ok) throw new Error(`Cannot post to Slack: HTTP ${res.status}`);
  return { posted: true, repos: input.repos };
}
