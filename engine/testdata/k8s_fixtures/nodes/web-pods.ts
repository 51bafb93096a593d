import type { Context } from "pipedreamer";

/** Names of the pods labelled app=web in the workflow's namespace. */
export default async function webPods(ctx: Context) {
  if (!ctx.k8s) throw new Error(`node "${ctx.node}" has no ctx.k8s`);
  const pods = await ctx.k8s.list<{ metadata: { name: string } }>(
    `/api/v1/namespaces/${ctx.k8s.namespace}/pods`,
    { labelSelector: "app=web" },
  );
  return pods.map((p) => p.metadata.name);
}
