import type { Context } from "pipedreamer";
import type { PullRequest } from "./fetch-prs.ts";

/**
 * Asks the Anthropic Messages API for a short digest. `anthropic.api_key` in secrets is sent as
 * `X-API-Key` by ctx.fetch. With no open pull requests it answers without calling the API.
 */
export default async function summarize(
  ctx: Context,
  input: { repo: string; prs: PullRequest[] },
) {
  if (input.prs.length === 0) {
    return { repo: input.repo, count: 0, summary: "No open pull requests." };
  }
  const list = input.prs.map((p) =>
    `#${p.number} ${p.draft ? "[draft] " : ""}${p.title} (by ${p.author})\n${p.body}`
  ).join("\n\n");
  const res = await ctx.fetch("anthropic", "/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({
      model: String(ctx.config.model),
      max_tokens: Number(ctx.config.maxTokens ?? 600),
      messages: [{
        role: "user",
        content: `Summarise these open pull requests of ${input.repo} for a team channel, ` +
          `one bullet each, most important first:\n\n${list}`,
      }],
    }),
  });
  if (!res.ok) throw new Error(`Cannot summarise pull requests: Anthropic HTTP ${res.status}`);
  const message = await res.json() as { content: { type: string; text?: string }[] };
  const summary = message.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
  ctx.log.info("summary written", { chars: summary.length });
  return { repo: input.repo, count: input.prs.length, summary };
}
