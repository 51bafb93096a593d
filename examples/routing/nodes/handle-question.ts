import type { Context } from "pipedreamer";
import type { Ticket } from "./classify.ts";

/** Everything else is a question for support. */
export default function handleQuestion(_ctx: Context, input: Ticket & { kind: string }) {
  return { queue: "support", priority: "normal", summary: input.text.slice(0, 80) };
}
