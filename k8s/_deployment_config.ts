/**
 * The `deployment:` section of workflow.yaml (k8s only), parsed and defaulted.
 *
 * ```yaml
 * deployment:
 *   replicas: 2
 *   resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 512Mi } }
 *   serviceAccount: collector
 *   rbac:
 *     role: { rules: [ { apiGroups: [""], resources: [configmaps], verbs: [get] } ] }
 *     clusterRole: { rules: [ { apiGroups: [""], resources: [nodes], verbs: [list] } ] }
 *   secrets: [shared-slack]          # existing Secrets, mounted beside <name>-secrets
 *   imagePullSecrets: [regcred]      # existing registry credentials
 *   networkPolicy: true
 *   partOf: billing
 *   port: 8080
 *   tmpSizeLimit: 256Mi
 * ```
 *
 * @module
 */

import { WorkflowSyntaxError } from "../engine/mod.ts";

/** One RBAC policy rule, as in `rbac.authorization.k8s.io/v1`. */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Container resources. */
export interface Resources {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

/** The parsed `deployment:` section with every default applied. */
export interface DeploymentConfig {
  replicas: number;
  resources: Resources;
  /** Declared service account; undefined means none (no token is mounted). */
  serviceAccount?: string;
  rbac: { role: PolicyRule[]; clusterRole: PolicyRule[] };
  /** Existing Secrets shared by several workflows, mounted read-only into /app/secrets. */
  secrets: string[];
  /** Existing `kubernetes.io/dockerconfigjson` Secrets for pulling the image. */
  imagePullSecrets: string[];
  networkPolicy: boolean;
  partOf: string;
  port: number;
  tmpSizeLimit: string;
}

/** Defaults of `deployment.resources`: small, with a memory limit and no CPU throttling. */
export const DEFAULT_RESOURCES: Resources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { memory: "512Mi" },
};

const KEYS = [
  "replicas",
  "resources",
  "serviceAccount",
  "rbac",
  "secrets",
  "imagePullSecrets",
  "networkPolicy",
  "partOf",
  "port",
  "tmpSizeLimit",
];
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/**
 * Parses `deployment:`; `file` locates the issues.
 *
 * @throws {WorkflowSyntaxError} listing every problem with a hint.
 * @example
 * ```ts
 * const config = parseDeploymentConfig({ replicas: 2 }, "workflow.yaml");
 * ```
 */
export function parseDeploymentConfig(raw: unknown, file: string): DeploymentConfig {
  const issues: { message: string; hint?: string }[] = [];
  const fail = (message: string, hint?: string) => issues.push({ message, hint });
  const map = raw === undefined || raw === null ? {} : raw;
  if (typeof map !== "object" || Array.isArray(map)) {
    throw syntaxError(file, [{ message: "deployment: must be a map" }]);
  }
  const d = map as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!KEYS.includes(key)) {
      fail(`deployment: unknown key "${key}"`, `known keys: ${KEYS.join(", ")}`);
    }
  }

  const replicas = d.replicas ?? 1;
  if (!Number.isInteger(replicas) || (replicas as number) < 0) {
    fail(`deployment.replicas: must be a non-negative integer, got ${JSON.stringify(replicas)}`);
  }
  const port = d.port ?? 8080;
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
    fail(`deployment.port: must be a port number, got ${JSON.stringify(port)}`);
  }
  const serviceAccount = d.serviceAccount;
  if (
    serviceAccount !== undefined &&
    (typeof serviceAccount !== "string" || !DNS_SUBDOMAIN.test(serviceAccount))
  ) {
    fail(
      `deployment.serviceAccount: ${JSON.stringify(serviceAccount)} is not a valid name`,
      "use lowercase letters, digits and '-'",
    );
  }
  const secrets = d.secrets ?? [];
  if (
    !Array.isArray(secrets) || secrets.some((s) => typeof s !== "string" || !DNS_SUBDOMAIN.test(s))
  ) {
    fail("deployment.secrets: must be a list of Secret names", "e.g. secrets: [shared-slack]");
  }
  const imagePullSecrets = d.imagePullSecrets ?? [];
  if (
    !Array.isArray(imagePullSecrets) ||
    imagePullSecrets.some((s) => typeof s !== "string" || !DNS_SUBDOMAIN.test(s))
  ) {
    fail(
      "deployment.imagePullSecrets: must be a list of Secret names",
      "e.g. imagePullSecrets: [regcred]",
    );
  }
  const partOf = d.partOf ?? "pipedreamer";
  if (typeof partOf !== "string" || partOf.length > 63 || !LABEL_VALUE.test(partOf)) {
    fail(`deployment.partOf: ${JSON.stringify(partOf)} is not a valid label value`);
  }
  const tmpSizeLimit = d.tmpSizeLimit ?? "256Mi";
  if (typeof tmpSizeLimit !== "string" || !QUANTITY.test(tmpSizeLimit)) {
    fail(
      `deployment.tmpSizeLimit: ${JSON.stringify(tmpSizeLimit)} is not a quantity`,
      "e.g. 256Mi",
    );
  }
  const networkPolicy = d.networkPolicy ?? true;
  if (typeof networkPolicy !== "boolean") fail("deployment.networkPolicy: must be true or false");

  const resources = parseResources(d.resources, fail);
  const rbac = parseRbac(d.rbac, fail);
  if (issues.length > 0) throw syntaxError(file, issues);
  return {
    replicas: replicas as number,
    resources,
    serviceAccount: serviceAccount as string | undefined,
    rbac,
    secrets: secrets as string[],
    imagePullSecrets: imagePullSecrets as string[],
    networkPolicy: networkPolicy as boolean,
    partOf: partOf as string,
    port: port as number,
    tmpSizeLimit: tmpSizeLimit as string,
  };
}

type Fail = (message: string, hint?: string) => void;

function parseResources(raw: unknown, fail: Fail): Resources {
  if (raw === undefined) return structuredClone(DEFAULT_RESOURCES);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail("deployment.resources: must be a map with requests and/or limits");
    return structuredClone(DEFAULT_RESOURCES);
  }
  const r = raw as Record<string, unknown>;
  const out = structuredClone(DEFAULT_RESOURCES);
  for (const [section, value] of Object.entries(r)) {
    if (section !== "requests" && section !== "limits") {
      fail(`deployment.resources: unknown key "${section}"`, "use requests and limits");
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      fail(`deployment.resources.${section}: must be a map like { cpu: 100m, memory: 128Mi }`);
      continue;
    }
    for (const [name, quantity] of Object.entries(value)) {
      const q = typeof quantity === "number" ? String(quantity) : quantity;
      if (typeof q !== "string" || !QUANTITY.test(q)) {
        fail(
          `deployment.resources.${section}.${name}: ${JSON.stringify(quantity)} is not a quantity`,
          "e.g. 250m, 1, 512Mi",
        );
        continue;
      }
      out[section][name] = q;
    }
  }
  return out;
}

function parseRbac(raw: unknown, fail: Fail): DeploymentConfig["rbac"] {
  const out: DeploymentConfig["rbac"] = { role: [], clusterRole: [] };
  if (raw === undefined) return out;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail("deployment.rbac: must be a map with role and/or clusterRole");
    return out;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key !== "role" && key !== "clusterRole") {
      fail(`deployment.rbac: unknown key "${key}"`, "use role (this namespace) or clusterRole");
      continue;
    }
    const rules = (value as { rules?: unknown } | null)?.rules;
    if (!Array.isArray(rules)) {
      fail(`deployment.rbac.${key}: must be { rules: [ … ] }`);
      continue;
    }
    rules.forEach((rule, i) => {
      const parsed = parsePolicyRule(rule, `deployment.rbac.${key}.rules[${i}]`, fail);
      if (parsed) out[key].push(parsed);
    });
  }
  return out;
}

const RULE_KEYS = ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"];

function parsePolicyRule(raw: unknown, where: string, fail: Fail): PolicyRule | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail(
      `${where}: must be a map`,
      'e.g. { apiGroups: [""], resources: [pods], verbs: [get, list] }',
    );
    return undefined;
  }
  const rule: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!RULE_KEYS.includes(key)) {
      fail(`${where}: unknown key "${key}"`, `known keys: ${RULE_KEYS.join(", ")}`);
      continue;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      fail(`${where}.${key}: must be a list of strings`);
      continue;
    }
    rule[key] = value as string[];
  }
  if (!rule.verbs || rule.verbs.length === 0) {
    fail(`${where}: verbs is required`, "e.g. verbs: [get, list]");
    return undefined;
  }
  if (!rule.resources && !rule.nonResourceURLs) {
    fail(`${where}: resources is required`, "e.g. resources: [pods]");
    return undefined;
  }
  return { ...rule, verbs: rule.verbs } as PolicyRule;
}

function syntaxError(
  file: string,
  issues: { message: string; hint?: string }[],
): WorkflowSyntaxError {
  return new WorkflowSyntaxError(
    issues.map((issue) => ({ file, line: 0, column: 0, ...issue })),
  );
}
