import type { Context } from "pipedreamer";

/**
 * Posts the digest to a Slack incoming webhook (`slack.webhook_path` secret) when it was
 * approved. The post is a `ctx.step`: a retried or resumed node never posts twice.
 */
export default async function post(
  ctx: Context,
  input: { summarize: { line: string }[]; approve: { approved?: boolean; comment?: string } },
) {
  const { approved = false, comment = "" } = input.approve ?? {};
  if (!approved) return { posted: false, comment };
  const slack = ctx.secrets.slack;
  const path = typeof slack === "object" ? slack.webhook_path : undefined;
  if (typeof path !== "string") {
    throw new Error("Cannot post to Slack: add slack.webhook_path to .secrets.yaml");
  }
  const lines = input.summarize.map((s) => s.line);
  const text = [`${lines.length} open issues${comment ? ` (${comment})` : ""}`, ...lines].join(
    "\n",
  );
  await ctx.step("post-to-slack", async () => {
    const res = await ctx.fetch("slack", path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
    if (!res.ok) throw new Error(`Cannot post to Slack: HTTP ${res.status}`);
    return { status: res.status };
  });
  return { posted: true, count: lines.length, comment };
}
