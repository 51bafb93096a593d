import type { Context } from "pipedreamer";

/** `ctx.k8s`, present when the node declares `capabilities.k8s` (see docs/kubernetes.md). */
export interface K8s {
  list<T = unknown>(
    path: string,
    selectors?: { labelSelector?: string; fieldSelector?: string },
  ): Promise<T[]>;
}

/** The node's `ctx.k8s`, or a clear error naming the capability to declare. */
export function k8sOf(ctx: Context): K8s {
  const k8s = (ctx as Context & { k8s?: K8s }).k8s;
  if (!k8s) {
    throw new Error(
      `Cannot read the cluster: node "${ctx.node}" has no ctx.k8s; declare capabilities.k8s`,
    );
  }
  return k8s;
}
