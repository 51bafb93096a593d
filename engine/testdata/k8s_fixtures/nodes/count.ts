import type { Context } from "pipedreamer";

/** How many names it got, and whether it has ctx.k8s (it declares no capabilities.k8s). */
export default function count(ctx: Context, names: string[]) {
  return { count: names.length, k8s: ctx.k8s !== undefined };
}
