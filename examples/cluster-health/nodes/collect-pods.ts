import type { Context } from "pipedreamer";
import { k8sOf } from "./_k8s.ts";

interface Pod {
  metadata: { name: string; namespace: string };
  status?: {
    phase?: string;
    containerStatuses?: { restartCount?: number; state?: { waiting?: { reason?: string } } }[];
  };
}

/** Pods in every namespace that are not running well: not Running, waiting, or restarting a lot. */
export default async function collectPods(ctx: Context) {
  const threshold = Number(ctx.config.restartThreshold ?? 5);
  const pods = await k8sOf(ctx).list<Pod>("/api/v1/pods", {
    fieldSelector: "status.phase!=Succeeded",
  });
  const unhealthy = pods.map((p) => {
    const statuses = p.status?.containerStatuses ?? [];
    return {
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      phase: p.status?.phase ?? "Unknown",
      restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
      reason: statuses.map((c) => c.state?.waiting?.reason).find((r) => r !== undefined) ?? null,
    };
  }).filter((p) => p.phase !== "Running" || p.reason !== null || p.restarts >= threshold);
  return { total: pods.length, unhealthy };
}
