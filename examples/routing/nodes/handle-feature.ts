import type { Context } from "pipedreamer";
import type { Ticket } from "./classify.ts";

/** Feature requests go to the product backlog. */
export default function handleFeature(_ctx: Context, input: Ticket & { kind: string }) {
  return { queue: "product", priority: "low", summary: input.text.slice(0, 80) };
}
