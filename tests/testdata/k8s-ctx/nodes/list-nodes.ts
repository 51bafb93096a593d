import type { Context } from "pipedreamer";

/** Names of the cluster's nodes. */
export default async function listNodes(ctx: Context) {
  const nodes = await ctx.k8s!.list<{ metadata: { name: string } }>("/api/v1/nodes");
  return nodes.map((n) => n.metadata.name);
}
