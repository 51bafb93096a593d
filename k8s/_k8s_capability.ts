/**
 * `capabilities.k8s` of a node: the Kubernetes API calls `ctx.k8s` may make. The same rules
 * become the workflow's RBAC (so the cluster enforces them too) and guard every call on the
 * engine side (so a denial names the capability to add, also in dev and in fixtures).
 *
 * ```yaml
 * capabilities:
 *   k8s:
 *     - { resources: [nodes], verbs: [get, list] }
 *     - { resources: [pods], verbs: [list], scope: namespace }   # own namespace only
 *     - { apiGroups: [apps], resources: [deployments], verbs: [get] }
 * ```
 *
 * `k8s: true` grants whatever the workflow's service account may do (`deployment.rbac`).
 *
 * @module
 */

/** Where a rule applies. */
export const K8sScope = {
  /** Every namespace and cluster-scoped resources (a ClusterRole). */
  Cluster: "cluster",
  /** The workflow's own namespace (a Role). */
  Namespace: "namespace",
} as const;
/** One of {@link K8sScope}. */
export type K8sScope = typeof K8sScope[keyof typeof K8sScope];

/** One RBAC-shaped rule of `capabilities.k8s`. */
export interface K8sRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  scope: K8sScope;
}

/** A parsed `capabilities.k8s`: `"any"` (declared as `true`) or explicit rules. */
export type K8sCapability = "any" | K8sRule[];

const RULE_KEYS = ["apiGroups", "resources", "verbs", "resourceNames", "scope"];
const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

/**
 * Parses the raw `capabilities.k8s` value; undefined means the node has no API access.
 *
 * @throws {TypeError} naming the bad field and the accepted shape.
 * @example
 * ```ts
 * parseK8sCapability([{ resources: ["pods"], verbs: ["list"] }]);
 * ```
 */
export function parseK8sCapability(
  raw: unknown,
  where = "capabilities.k8s",
): K8sCapability | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  if (raw === true) return "any";
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((item, i) => parseRule(item, `${where}[${i}]`));
}

function parseRule(raw: unknown, where: string): K8sRule {
  const fail = (detail: string) =>
    new TypeError(
      `Cannot read ${where}: ${detail}; expected { resources: [pods], verbs: [get, list] }`,
    );
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw fail("not a map");
  const rule = raw as Record<string, unknown>;
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.includes(key)) {
      throw fail(`unknown key "${key}" (known: ${RULE_KEYS.join(", ")})`);
    }
  }
  const strings = (key: string, required: boolean): string[] | undefined => {
    const value = rule[key];
    if (value === undefined && !required) return undefined;
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== "string")) {
      throw fail(`"${key}" must be a non-empty list of strings`);
    }
    return list as string[];
  };
  const verbs = strings("verbs", true)!;
  const badVerb = verbs.find((v) => v !== "*" && !VERBS.includes(v));
  if (badVerb) throw fail(`unknown verb "${badVerb}" (known: ${VERBS.join(", ")})`);
  const scope = rule.scope ?? K8sScope.Cluster;
  if (scope !== K8sScope.Cluster && scope !== K8sScope.Namespace) {
    throw fail(`"scope" must be "cluster" or "namespace", got ${JSON.stringify(scope)}`);
  }
  const resourceNames = strings("resourceNames", false);
  return {
    apiGroups: strings("apiGroups", false) ?? [""],
    resources: strings("resources", true)!,
    verbs,
    ...(resourceNames ? { resourceNames } : {}),
    scope,
  };
}

/** What one API request does, in RBAC terms. */
export interface K8sRequestAttributes {
  verb: string;
  apiGroup: string;
  /** Plural resource, with `/subresource` when there is one (e.g. `pods/log`). */
  resource: string;
  namespace?: string;
  name?: string;
}

/**
 * Derives RBAC attributes from a REST path, as the API server does
 * (`/api/v1/namespaces/x/pods/p/log` → get pods/log in x).
 *
 * @throws {TypeError} for a path that is not a resource path.
 */
export function requestAttributes(method: string, path: string): K8sRequestAttributes {
  const url = new URL(path, "http://k8s.invalid");
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let apiGroup: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    apiGroup = "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    apiGroup = parts[1]!;
    rest = parts.slice(3);
  } else {
    throw new TypeError(
      `Cannot call the Kubernetes API: "${path}" is not a resource path (/api/v1/… or /apis/<group>/<version>/…)`,
    );
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) throw new TypeError(`Cannot call the Kubernetes API: "${path}" names no resource`);
  const m = method.toUpperCase();
  const watch = url.searchParams.get("watch");
  const verb = m === "GET"
    ? (watch === "true" || watch === "1") ? "watch" : name ? "get" : "list"
    : m === "POST"
    ? "create"
    : m === "PUT"
    ? "update"
    : m === "PATCH"
    ? "patch"
    : m === "DELETE"
    ? name ? "delete" : "deletecollection"
    : m.toLowerCase();
  return {
    verb,
    apiGroup,
    resource: subresource ? `${resource}/${subresource}` : resource,
    namespace,
    name,
  };
}

/** True when one of `rules` allows `attrs` (`ownNamespace` is where namespace rules apply). */
export function k8sAllows(
  rules: K8sRule[],
  attrs: K8sRequestAttributes,
  ownNamespace: string,
): boolean {
  return rules.some((rule) =>
    matches(rule.verbs, attrs.verb) &&
    matches(rule.apiGroups, attrs.apiGroup) &&
    matches(rule.resources, attrs.resource) &&
    (!rule.resourceNames ||
      (attrs.name !== undefined && rule.resourceNames.includes(attrs.name))) &&
    (rule.scope === K8sScope.Cluster || attrs.namespace === ownNamespace)
  );
}

function matches(allowed: string[], value: string): boolean {
  return allowed.includes("*") || allowed.includes(value);
}

/** The YAML to add for a denied request, for error messages. */
export function ruleHint(attrs: K8sRequestAttributes): string {
  const groups = attrs.apiGroup === "" ? "" : `apiGroups: [${attrs.apiGroup}], `;
  const scope = attrs.namespace ? ", scope: namespace" : "";
  return `k8s: [{ ${groups}resources: [${attrs.resource}], verbs: [${attrs.verb}]${scope} }]`;
}
