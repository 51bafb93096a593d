import type { Context } from "pipedreamer";

/** Would post the greeting to Slack; returns what it would send. */
export default function notify(ctx: Context, input: { text: string }) {
  ctx.log.info("notifying", { length: input.text.length });
  return { sent: input.text };
}
