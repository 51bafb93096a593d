/**
 * `cluster check [--fix]`: can this kubeconfig deploy and operate workflows here? The API is
 * reachable, the namespace exists, the gVisor RuntimeClass exists, and the caller may do what
 * deploy and the operating commands do (SelfSubjectAccessReview). Each failed check carries a
 * fix hint; `--fix` creates what is safe to create (the namespace). A RuntimeClass is never
 * created: without gVisor on the nodes it would make every pod fail.
 *
 * @module
 */

import { DEFAULT_RUNTIME_CLASS } from "./generate_manifests.ts";
import { LABEL_MANAGED_BY, MANAGER } from "./_labels.ts";
import { resourcePath } from "./_resources.ts";
import { FIELD_MANAGER, KubeApiError, type KubeClient } from "./kube_client.ts";
import { kedaInstalled } from "./_keda.ts";

/** One check's outcome. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  hint?: string;
  /** `--fix` repaired it. */
  fixed?: boolean;
}

/** Options of {@link checkCluster}. */
export interface ClusterCheckOptions {
  /** Create what is safe to create. @default false */
  fix?: boolean;
  /** RuntimeClass workflows use; `""` skips that check. @default "gvisor" */
  runtimeClass?: string;
}

interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Cluster-scoped. */
  cluster?: boolean;
  why: string;
}

/** What deploy and the operating commands need. */
const PERMISSIONS: Permission[] = [
  ...["deployments"].flatMap((r) =>
    ["get", "list", "patch", "delete"].map((verb) => ({
      verb,
      group: "apps",
      resource: r,
      why: "deploy",
    }))
  ),
  ...["services", "configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims"].flatMap((
    r,
  ) =>
    ["get", "list", "patch", "delete"].map((verb) => ({
      verb,
      group: "",
      resource: r,
      why: "deploy",
    }))
  ),
  ...["cronjobs", "jobs"].flatMap((r) =>
    ["list", "patch", "delete"].map((verb) => ({
      verb,
      group: "batch",
      resource: r,
      why: "deploy",
    }))
  ),
  ...["patch", "list", "delete"].map((verb) => ({
    verb,
    group: "networking.k8s.io",
    resource: "networkpolicies",
    why: "deploy",
  })),
  ...["roles", "rolebindings"].flatMap((r) =>
    ["patch", "list", "delete"].map((verb) => ({
      verb,
      group: "rbac.authorization.k8s.io",
      resource: r,
      why: "deploy (deployment.rbac)",
    }))
  ),
  ...["clusterroles", "clusterrolebindings"].flatMap((r) =>
    ["patch", "list", "delete"].map((verb) => ({
      verb,
      group: "rbac.authorization.k8s.io",
      resource: r,
      cluster: true,
      why: "deploy (cluster-wide rbac)",
    }))
  ),
  ...["poddisruptionbudgets"].flatMap((r) =>
    ["patch", "list", "delete"].map((verb) => ({
      verb,
      group: "policy",
      resource: r,
      why: "deploy",
    }))
  ),
  ...["horizontalpodautoscalers"].flatMap((r) =>
    ["patch", "list", "delete"].map((verb) => ({
      verb,
      group: "autoscaling",
      resource: r,
      why: "deploy (deployment.autoscale)",
    }))
  ),
  {
    verb: "list",
    group: "storage.k8s.io",
    resource: "storageclasses",
    cluster: true,
    why: "cluster check",
  },
  { verb: "list", group: "", resource: "pods", why: "status, logs" },
  { verb: "get", group: "", resource: "pods", subresource: "log", why: "logs" },
  { verb: "list", group: "", resource: "events", why: "status" },
  { verb: "create", group: "", resource: "services", subresource: "proxy", why: "run" },
];

/**
 * Runs every check against one cluster.
 *
 * @example
 * ```ts
 * const results = await checkCluster(client, "default", { fix: true });
 * const ok = results.every((r) => r.ok);
 * ```
 */
export async function checkCluster(
  client: KubeClient,
  namespace: string,
  options: ClusterCheckOptions = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  try {
    const version = await client.json<{ gitVersion?: string }>("GET", "/version");
    results.push({
      name: "api",
      ok: true,
      detail: `reachable at ${client.server} (Kubernetes ${version.gitVersion ?? "unknown"})`,
    });
  } catch (error) {
    results.push({
      name: "api",
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
      hint:
        "check KUBECONFIG / --context and that the cluster is running; refresh expired credentials",
    });
    return results;
  }
  results.push(await checkNamespace(client, namespace, options.fix ?? false));
  const runtimeClass = options.runtimeClass ?? DEFAULT_RUNTIME_CLASS;
  if (runtimeClass !== "") results.push(await checkRuntimeClass(client, runtimeClass));
  results.push(await checkStorageClass(client));
  // KEDA is optional: where it is installed, deploy writes ScaledObjects, so it needs them too.
  const keda = await kedaInstalled(client);
  results.push({
    name: "keda",
    ok: true,
    detail: keda
      ? "KEDA is installed: deployment.autoscale with JetStream queue triggers becomes a ScaledObject"
      : "KEDA is not installed: deployment.autoscale generates the CPU HorizontalPodAutoscaler",
  });
  results.push(await checkPermissions(client, namespace, keda ? KEDA_PERMISSIONS : []));
  return results;
}

async function checkNamespace(
  client: KubeClient,
  namespace: string,
  fix: boolean,
): Promise<CheckResult> {
  const path = resourcePath("v1", "Namespace", undefined, namespace);
  if (await client.get(path)) {
    return { name: "namespace", ok: true, detail: `namespace "${namespace}" exists` };
  }
  const hint =
    `create it: \`pipedreamer cluster check --fix -n ${namespace}\` or \`pipedreamer deploy --create-namespace -n ${namespace}\``;
  if (!fix) {
    return {
      name: "namespace",
      ok: false,
      detail: `namespace "${namespace}" does not exist`,
      hint,
    };
  }
  try {
    await client.apply(
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace, labels: { [LABEL_MANAGED_BY]: MANAGER } },
      },
      { fieldManager: FIELD_MANAGER },
    );
    return { name: "namespace", ok: true, detail: `namespace "${namespace}" created`, fixed: true };
  } catch (error) {
    return {
      name: "namespace",
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
      hint,
    };
  }
}

async function checkRuntimeClass(client: KubeClient, name: string): Promise<CheckResult> {
  try {
    const rc = await client.get<{ handler?: string }>(
      resourcePath("node.k8s.io/v1", "RuntimeClass", undefined, name),
    );
    if (rc) {
      return {
        name: "runtimeclass",
        ok: true,
        detail: `RuntimeClass "${name}" exists (handler "${rc.handler ?? "?"}")`,
      };
    }
  } catch (error) {
    if (!(error instanceof KubeApiError) || error.status !== 403) throw error;
    return {
      name: "runtimeclass",
      ok: false,
      detail: error.message,
      hint: "ask a cluster admin whether gVisor is installed",
    };
  }
  return {
    name: "runtimeclass",
    ok: false,
    detail: `RuntimeClass "${name}" does not exist: workflow pods would not be scheduled`,
    hint:
      `install gVisor (runsc) on the nodes and create RuntimeClass "${name}" with handler runsc, ` +
      'or deploy with --runtime-class "" to run without it (not created by --fix: it needs runsc on every node)',
  };
}

/** The annotation of the default StorageClass. */
const DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class";

/** The default SQLite store is a PersistentVolumeClaim without a class: it needs a default one. */
async function checkStorageClass(client: KubeClient): Promise<CheckResult> {
  let classes: { metadata: { name: string; annotations?: Record<string, string> } }[];
  try {
    classes = await client.list(resourcePath("storage.k8s.io/v1", "StorageClass"));
  } catch (error) {
    if (!(error instanceof KubeApiError) || error.status !== 403) throw error;
    return {
      name: "storageclass",
      ok: false,
      detail: error.message,
      hint: "ask a cluster admin whether a default StorageClass exists",
    };
  }
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS] === "true");
  if (defaults.length > 0) {
    return {
      name: "storageclass",
      ok: true,
      detail: `default StorageClass "${
        defaults[0]!.metadata.name
      }" (for the SQLite run store's volume)`,
    };
  }
  const names = classes.map((c) => `"${c.metadata.name}"`).join(", ");
  return {
    name: "storageclass",
    ok: false,
    detail: `no default StorageClass${
      names ? ` (there are ${names})` : ""
    }: the run store's PersistentVolumeClaim would stay Pending`,
    hint: "set deployment.storage.storageClass to one of them, mark one as the default " +
      `(annotation ${DEFAULT_CLASS}: "true"), or use PostgreSQL (deployment.store)`,
  };
}

/** What deploy needs where KEDA is installed. */
const KEDA_PERMISSIONS: Permission[] = ["get", "patch", "list", "delete"].map((verb) => ({
  verb,
  group: "keda.sh",
  resource: "scaledobjects",
  why: "deploy (deployment.autoscale with KEDA)",
}));

async function checkPermissions(
  client: KubeClient,
  namespace: string,
  extra: Permission[],
): Promise<CheckResult> {
  const denied: Permission[] = [];
  const needed = [...PERMISSIONS, ...extra];
  for (const p of needed) {
    const review = await client.json<{ status?: { allowed?: boolean } }>(
      "POST",
      resourcePath("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: {
            resourceAttributes: {
              verb: p.verb,
              group: p.group,
              resource: p.resource,
              ...(p.subresource ? { subresource: p.subresource } : {}),
              ...(p.cluster ? {} : { namespace }),
            },
          },
        },
      },
    );
    if (review.status?.allowed !== true) denied.push(p);
  }
  if (denied.length === 0) {
    return {
      name: "permissions",
      ok: true,
      detail: `all ${needed.length} permissions granted in namespace "${namespace}"`,
    };
  }
  const list = denied.map((p) =>
    `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ""}${
      p.group ? `.${p.group}` : ""
    } (${p.why})`
  );
  return {
    name: "permissions",
    ok: false,
    detail: `missing ${denied.length} of ${needed.length}: ${list.join(", ")}`,
    hint:
      `ask a cluster admin to grant them in namespace "${namespace}" (e.g. a RoleBinding to the built-in "admin" ClusterRole)`,
  };
}
