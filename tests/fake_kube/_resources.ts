/**
 * The resources the fake API server serves, with what discovery reports about them.
 *
 * @module
 */

/** One served resource. */
export interface FakeResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Has a status subresource: writes to the main resource ignore `status`. */
  status: boolean;
  /** Name rule: DNS-1123 subdomain (253), label (63), or label limited to 52 (CronJob). */
  nameRule: "subdomain" | "label" | "cronjob" | "path";
  /** Create-only resources (reviews) are not stored. */
  virtual?: boolean;
  /** A custom resource's `openAPIV3Schema` (from its CRD, see _crd.ts). */
  schema?: unknown;
}

const r = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<FakeResource> = {},
): FakeResource => ({
  group,
  version,
  kind,
  plural,
  namespaced,
  status: false,
  nameRule: "subdomain",
  ...extra,
});

/** Every resource the fake serves. */
export const FAKE_RESOURCES: FakeResource[] = [
  r("", "v1", "Namespace", "namespaces", false, { nameRule: "label", status: true }),
  r("", "v1", "Node", "nodes", false, { status: true }),
  r("", "v1", "ConfigMap", "configmaps", true),
  r("", "v1", "Secret", "secrets", true),
  r("", "v1", "Service", "services", true, { nameRule: "label", status: true }),
  r("", "v1", "ServiceAccount", "serviceaccounts", true),
  r("", "v1", "Pod", "pods", true, { status: true }),
  r("", "v1", "Event", "events", true),
  r("", "v1", "Endpoints", "endpoints", true),
  r("apps", "v1", "Deployment", "deployments", true, { status: true }),
  r("apps", "v1", "ReplicaSet", "replicasets", true, { status: true }),
  r("batch", "v1", "CronJob", "cronjobs", true, { status: true, nameRule: "cronjob" }),
  r("batch", "v1", "Job", "jobs", true, { status: true }),
  r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
  r("rbac.authorization.k8s.io", "v1", "Role", "roles", true, { nameRule: "path" }),
  r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, { nameRule: "path" }),
  r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, { nameRule: "path" }),
  r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, {
    nameRule: "path",
  }),
  r("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false),
  r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, { status: true }),
  r("storage.k8s.io", "v1", "StorageClass", "storageclasses", false),
  r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, { status: true }),
  r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, {
    status: true,
  }),
  r("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, {
    virtual: true,
  }),
  r("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, {
    status: true,
  }),
];

/** apiVersion string of a resource. */
export function apiVersionOf(res: FakeResource): string {
  return res.group === "" ? res.version : `${res.group}/${res.version}`;
}

/** Finds a resource by group, version and plural. */
export function findResource(
  group: string,
  version: string,
  plural: string,
  custom: FakeResource[] = [],
): FakeResource | undefined {
  return [...FAKE_RESOURCES, ...custom].find((x) =>
    x.group === group && x.version === version && x.plural === plural
  );
}

/** Finds a resource by apiVersion and kind. */
export function resourceByKind(
  apiVersion: string,
  kind: string,
  custom: FakeResource[] = [],
): FakeResource | undefined {
  return [...FAKE_RESOURCES, ...custom].find((x) =>
    apiVersionOf(x) === apiVersion && x.kind === kind
  );
}

/** The discovery document of one group version (`/api/v1`, `/apis/<group>/<version>`). */
export function discovery(
  group: string,
  version: string,
  custom: FakeResource[] = [],
): Record<string, unknown> | undefined {
  const list = [...FAKE_RESOURCES, ...custom].filter((x) =>
    x.group === group && x.version === version
  );
  if (list.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources: list.map((x) => ({
      name: x.plural,
      singularName: x.kind.toLowerCase(),
      namespaced: x.namespaced,
      kind: x.kind,
      verbs: x.virtual
        ? ["create"]
        : ["create", "delete", "deletecollection", "get", "list", "patch", "update"],
    })),
  };
}

/** `/apis`: every group the fake serves. */
export function apiGroups(custom: FakeResource[] = []): Record<string, unknown> {
  const all = [...FAKE_RESOURCES, ...custom];
  const groups = [...new Set(all.filter((x) => x.group !== "").map((x) => x.group))];
  const versionOf = (group: string) => all.find((x) => x.group === group)!.version;
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups.map((name) => ({
      name,
      versions: [{ groupVersion: `${name}/${versionOf(name)}`, version: versionOf(name) }],
      preferredVersion: { groupVersion: `${name}/${versionOf(name)}`, version: versionOf(name) },
    })),
  };
}
