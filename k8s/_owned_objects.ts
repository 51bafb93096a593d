/**
 * Finds every object of a workflow by its labels, namespaced and cluster-scoped, so `deploy`
 * can prune what a new version no longer has and `undeploy` leaves nothing behind.
 *
 * @module
 */

import { instanceSelector } from "./_labels.ts";
import type { KubeObject } from "./_manifest_context.ts";
import { resourcePath, RESOURCES } from "./_resources.ts";
import { KubeApiError, type KubeClient } from "./kube_client.ts";

/** Kinds of CRDs a cluster may not have (listing them there is a 404: nothing to find). */
const OPTIONAL_KINDS = ["ScaledObject"];

/** Kinds Pipedreamer creates in the workflow's namespace (Jobs come from its CronJobs). */
const NAMESPACED_KINDS = [
  "ScaledObject",
  "HorizontalPodAutoscaler",
  "PodDisruptionBudget",
  "Deployment",
  "CronJob",
  "Job",
  "Service",
  "NetworkPolicy",
  "ConfigMap",
  "Secret",
  "RoleBinding",
  "Role",
  "ServiceAccount",
  "PersistentVolumeClaim",
];
/** Cluster-scoped kinds, labelled with the workflow's namespace. */
const CLUSTER_KINDS = ["ClusterRoleBinding", "ClusterRole"];

/** Every object labelled as part of workflow `name` in `namespace`, with apiVersion and kind set. */
export async function listOwnedObjects(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const kind of [...NAMESPACED_KINDS, ...CLUSTER_KINDS]) {
    const info = RESOURCES.find((r) => r.kind === kind)!;
    const selector = info.namespaced
      ? instanceSelector(name)
      : instanceSelector(name, { namespace });
    const items = await client.list<KubeObject>(resourcePath(info.apiVersion, kind, namespace), {
      labelSelector: selector,
    }).catch((error) => {
      if (error instanceof KubeApiError && error.status === 404 && OPTIONAL_KINDS.includes(kind)) {
        return [];
      }
      throw error;
    });
    // List items carry no apiVersion/kind: restore them.
    out.push(...items.map((o) => ({ ...o, apiVersion: info.apiVersion, kind })));
  }
  return out;
}

/** `Kind/namespace/name`, the identity of an object. */
export function objectKey(
  o: { kind: string; metadata: { name: string; namespace?: string } },
): string {
  return `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/** Deletes objects one by one (background propagation); returns what was deleted. */
export async function deleteObjects(
  client: KubeClient,
  objects: KubeObject[],
): Promise<KubeObject[]> {
  const deleted: KubeObject[] = [];
  for (const o of objects) {
    const path = resourcePath(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
    if (await client.delete(path)) deleted.push(o);
  }
  return deleted;
}
