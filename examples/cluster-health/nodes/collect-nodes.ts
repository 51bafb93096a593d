import type { Context } from "pipedreamer";
import { k8sOf } from "./_k8s.ts";

interface Node {
  metadata: { name: string };
  status?: {
    conditions?: { type: string; status: string }[];
    nodeInfo?: { kubeletVersion?: string };
  };
}

/** Every node with its readiness and kubelet version. */
export default async function collectNodes(ctx: Context) {
  const nodes = await k8sOf(ctx).list<Node>("/api/v1/nodes");
  ctx.log.info("listed nodes", { count: nodes.length });
  return nodes.map((n) => ({
    name: n.metadata.name,
    ready: n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    kubelet: n.status?.nodeInfo?.kubeletVersion ?? "unknown",
  }));
}
