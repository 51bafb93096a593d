/**
 * Names, labels and selectors of every object Pipedreamer creates, in one place so `deploy`,
 * `undeploy`, `list`, `versions` and `rollback` agree on them.
 *
 * @module
 */

/** `app.kubernetes.io/component` values. */
export const Component = {
  Engine: "engine",
  Code: "code",
  Config: "config",
  Secrets: "secrets",
  Token: "token",
  Cron: "cron",
  Rbac: "rbac",
  Network: "network",
  Namespace: "namespace",
  Data: "data",
  Availability: "availability",
  Autoscale: "autoscale",
  /** Every object of a canary release (k8s/_canary_manifests.ts), deleted when it ends. */
  Canary: "canary",
} as const;
/** One of {@link Component}. */
export type Component = typeof Component[keyof typeof Component];

export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_INSTANCE = "app.kubernetes.io/instance";
export const LABEL_VERSION = "app.kubernetes.io/version";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_PART_OF = "app.kubernetes.io/part-of";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
/** On cluster-scoped objects: the namespace of the workflow that owns them. */
export const LABEL_NAMESPACE = "pipedreamer.dev/namespace";
export const MANAGER = "pipedreamer";

export const ANNOTATION_CODE_HASH = "pipedreamer.dev/code-hash";
export const ANNOTATION_IMAGE = "pipedreamer.dev/image";
export const ANNOTATION_FILES = "pipedreamer.dev/files";
export const ANNOTATION_VERSION = "pipedreamer.dev/version";
/** On a code ConfigMap: `image` when the code is baked into the image (over 900 KiB). */
export const ANNOTATION_CODE_SOURCE = "pipedreamer.dev/code-source";

/** Service port name used by the API server's service proxy (`<name>:http`). */
export const HTTP_PORT_NAME = "http";

/** Version as it may appear in a label value or an object name (`+` is not allowed there). */
export function versionSlug(version: string): string {
  return version.replaceAll("+", "-").toLowerCase();
}

/** The names of every object of one workflow. */
export function objectNames(name: string, namespace: string) {
  return {
    deployment: name,
    service: name,
    networkPolicy: name,
    cronNetworkPolicy: `${name}-cron`,
    secrets: `${name}-secrets`,
    token: `${name}-token`,
    config: `${name}-config`,
    data: `${name}-data`,
    disruptionBudget: name,
    autoscaler: name,
    code: (version: string) => `${name}-code-${versionSlug(version)}`,
    serviceAccount: name,
    role: name,
    clusterRole: `pipedreamer-${namespace}-${name}`,
    cronJob: (index: number, count: number) => cronJobName(name, index, count),
    /** The canary's Deployment, Service, NetworkPolicy and the live engine's switch ConfigMap. */
    canary: `${name}-canary`,
    canaryData: `${name}-canary-data`,
    canarySecrets: `${name}-canary-secrets`,
    /** What `promote` applies: the canary version's manifests in live form. */
    canaryRelease: `${name}-canary-release`,
  };
}

/** CronJob names are limited to 52 characters (the Job controller appends a suffix). */
function cronJobName(name: string, index: number, count: number): string {
  const suffix = count === 1 ? "-cron" : `-cron-${index}`;
  return `${name.slice(0, 52 - suffix.length).replace(/-+$/, "")}${suffix}`;
}

/** Labels of one object of a workflow. */
export function workflowLabels(
  workflow: { name: string; version: string },
  component: Component,
  options: { partOf?: string; namespace?: string } = {},
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_NAME]: workflow.name,
    [LABEL_INSTANCE]: workflow.name,
    [LABEL_VERSION]: versionSlug(workflow.version),
    [LABEL_COMPONENT]: component,
    [LABEL_PART_OF]: options.partOf ?? "pipedreamer",
    [LABEL_MANAGED_BY]: MANAGER,
  };
  if (options.namespace !== undefined) labels[LABEL_NAMESPACE] = options.namespace;
  return labels;
}

/** Pod selector of the engine Deployment: stable across versions (the selector is immutable). */
export function engineSelector(name: string): Record<string, string> {
  return {
    [LABEL_INSTANCE]: name,
    [LABEL_COMPONENT]: Component.Engine,
    [LABEL_MANAGED_BY]: MANAGER,
  };
}

/** Pod selector of a canary release's engine: never selected by the live Service. */
export function canarySelector(name: string): Record<string, string> {
  return {
    [LABEL_INSTANCE]: name,
    [LABEL_COMPONENT]: Component.Canary,
    [LABEL_MANAGED_BY]: MANAGER,
  };
}

/** Label selector string selecting everything of a workflow (`component` narrows it). */
export function instanceSelector(
  name: string,
  options: { component?: Component; namespace?: string } = {},
): string {
  const parts = [`${LABEL_MANAGED_BY}=${MANAGER}`, `${LABEL_INSTANCE}=${name}`];
  if (options.component) parts.push(`${LABEL_COMPONENT}=${options.component}`);
  if (options.namespace !== undefined) parts.push(`${LABEL_NAMESPACE}=${options.namespace}`);
  return parts.join(",");
}

/** Label selector string of every engine Deployment Pipedreamer manages. */
export const ENGINE_SELECTOR =
  `${LABEL_MANAGED_BY}=${MANAGER},${LABEL_COMPONENT}=${Component.Engine}`;

/** Renders a label map as a selector string. */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
}
