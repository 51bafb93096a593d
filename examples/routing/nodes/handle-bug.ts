import type { Context } from "pipedreamer";
import type { Ticket } from "./classify.ts";

/** Bugs get a priority from the words used. */
export default function handleBug(_ctx: Context, input: Ticket & { kind: string }) {
  const priority = /\b(crash\w*|data loss|down)\b/i.test(input.text) ? "high" : "normal";
  return { queue: "engineering", priority, summary: input.text.slice(0, 80) };
}
