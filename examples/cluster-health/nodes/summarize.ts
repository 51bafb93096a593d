import type { Context } from "pipedreamer";

interface Input {
  "collect-nodes": { name: string; ready: boolean; kubelet: string }[];
  "collect-pods": {
    total: number;
    unhealthy: { namespace: string; name: string; reason: string | null }[];
  };
}

/** One verdict for the whole cluster. */
export default function summarize(ctx: Context, input: Input) {
  const notReady = input["collect-nodes"].filter((n) => !n.ready).map((n) => n.name);
  const pods = input["collect-pods"];
  const healthy = notReady.length === 0 && pods.unhealthy.length === 0;
  if (!healthy) {
    ctx.log.warn("cluster degraded", {
      notReady: notReady.length,
      unhealthyPods: pods.unhealthy.length,
    });
  }
  return {
    healthy,
    nodes: { total: input["collect-nodes"].length, notReady },
    pods: { total: pods.total, unhealthy: pods.unhealthy.map((p) => `${p.namespace}/${p.name}`) },
  };
}
