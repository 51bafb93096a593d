import type { Context } from "pipedreamer";

/** Declares no capabilities.k8s: has no ctx.k8s, and plain fetch() to the API server is denied. */
export default async function noK8s(ctx: Context, input: { url?: string }) {
  if (input.url !== undefined) await fetch(input.url);
  return { k8s: ctx.k8s !== undefined };
}
