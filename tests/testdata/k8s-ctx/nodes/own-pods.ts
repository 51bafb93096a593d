import type { Context } from "pipedreamer";

/** The pods of the workflow's own namespace (a `scope: namespace` rule). */
export default async function ownPods(ctx: Context) {
  const k8s = ctx.k8s!;
  const pods = await k8s.list<{ metadata: { name: string } }>(
    `/api/v1/namespaces/${k8s.namespace}/pods`,
  );
  return { namespace: k8s.namespace, pods: pods.map((p) => p.metadata.name) };
}
