import type { Context } from "pipedreamer";
export default function count(_ctx: Context, input: { items: string[] }) {
  return { n: input.items.length };
}
