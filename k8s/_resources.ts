/**
 * The API resources Pipedreamer touches: kind → REST path.
 *
 * @module
 */

/** One API resource. */
export interface ResourceInfo {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** Every resource Pipedreamer creates, reads or deletes. */
export const RESOURCES: readonly ResourceInfo[] = [
  { apiVersion: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  { apiVersion: "v1", kind: "Node", plural: "nodes", namespaced: false },
  { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  { apiVersion: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  { apiVersion: "v1", kind: "Service", plural: "services", namespaced: true },
  { apiVersion: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true },
  { apiVersion: "v1", kind: "Pod", plural: "pods", namespaced: true },
  { apiVersion: "v1", kind: "Event", plural: "events", namespaced: true },
  { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments", namespaced: true },
  { apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true },
  { apiVersion: "batch/v1", kind: "CronJob", plural: "cronjobs", namespaced: true },
  { apiVersion: "batch/v1", kind: "Job", plural: "jobs", namespaced: true },
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    namespaced: true,
  },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", plural: "roles", namespaced: true },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    namespaced: true,
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    plural: "clusterroles",
    namespaced: false,
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    namespaced: false,
  },
  {
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    plural: "runtimeclasses",
    namespaced: false,
  },
  { apiVersion: "v1", kind: "Endpoints", plural: "endpoints", namespaced: true },
  {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    plural: "persistentvolumeclaims",
    namespaced: true,
  },
  {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    plural: "storageclasses",
    namespaced: false,
  },
  {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    namespaced: true,
  },
  {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  // KEDA's CRD: served only where KEDA is installed.
  {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    plural: "scaledobjects",
    namespaced: true,
  },
  {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    plural: "selfsubjectaccessreviews",
    namespaced: false,
  },
];

/**
 * Looks up a resource by apiVersion and kind.
 *
 * @throws {TypeError} for a kind Pipedreamer does not use.
 */
export function resourceInfo(apiVersion: string, kind: string): ResourceInfo {
  const info = RESOURCES.find((r) => r.apiVersion === apiVersion && r.kind === kind);
  if (!info) {
    throw new TypeError(`Cannot address ${apiVersion} ${kind}: not a resource Pipedreamer uses`);
  }
  return info;
}

/**
 * The REST path of an object (with `name`) or of a collection (without).
 *
 * @example
 * ```ts
 * resourcePath("apps/v1", "Deployment", "default", "hello"); // /apis/apps/v1/namespaces/default/deployments/hello
 * ```
 */
export function resourcePath(
  apiVersion: string,
  kind: string,
  namespace?: string,
  name?: string,
): string {
  const info = resourceInfo(apiVersion, kind);
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = info.namespaced && namespace !== undefined
    ? `/namespaces/${encodeURIComponent(namespace)}`
    : "";
  return `${base}${ns}/${info.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ""}`;
}
