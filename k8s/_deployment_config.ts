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
 *   store: { secret: pipedreamer-db, key: url }   # PostgreSQL; default SQLite on a PVC
 *   storage: { size: 1Gi, storageClass: fast }    # the SQLite PVC
 *   grace: 30s                                    # drain grace on SIGTERM
 *   autoscale: { min: 2, max: 10, cpu: 70 }       # HPA, or KEDA on queue lag (needs store)
 *   nats: { url: nats://nats.messaging.svc:4222 }  # queue triggers and webhooks (_nats_config.ts)
 *   egressExcept: [10.0.0.0/8]                    # CIDRs wide egress never reaches
 * ```
 *
 * @module
 */

import { parseDuration, WorkflowSyntaxError } from "../engine/mod.ts";
import { type NatsConfig, parseNatsConfig } from "./_nats_config.ts";

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
  /** PostgreSQL store URL in an existing Secret; undefined: SQLite on a PersistentVolumeClaim. */
  store?: { secret: string; key: string };
  /** The SQLite PersistentVolumeClaim (unused with `store`). */
  storage: { size: string; storageClass?: string };
  /** How long running runs may finish on SIGTERM (serve --grace), in seconds. */
  graceSeconds: number;
  /**
   * Autoscaler bounds; undefined: none. `keda`: a KEDA ScaledObject on the JetStream consumer's
   * lag (true), the CPU HPA (false), or KEDA where its CRDs exist ("auto", see _keda.ts).
   */
  autoscale?: {
    min: number;
    max: number;
    cpu: number;
    keda: boolean | "auto";
    lagThreshold: number;
  };
  /** The NATS server of queue triggers and webhooks; undefined: none configured. */
  nats?: NatsConfig;
  /** CIDRs that wide (hostname) egress never reaches: metadata and cluster ranges. */
  egressExcept: string[];
}

/** Cloud metadata plus the usual pod and service CIDRs (kubeadm, k3s, GKE, EKS defaults). */
export const DEFAULT_EGRESS_EXCEPT = [
  "169.254.169.254/32",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
];

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
  "store",
  "storage",
  "grace",
  "autoscale",
  "egressExcept",
  "nats",
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
  const store = parseStore(d.store, fail);
  const storage = parseStorage(d.storage, fail);
  const grace = d.grace ?? "30s";
  let graceCheck: number | undefined;
  try {
    graceCheck = typeof grace === "string" ? parseDuration(grace) : undefined;
  } catch {
    graceCheck = undefined;
  }
  if (graceCheck === undefined) {
    fail(`deployment.grace: ${JSON.stringify(grace)} is not a duration`, "e.g. 30s or 2m");
  }
  const autoscale = parseAutoscale(d.autoscale, fail);
  const nats = parseNatsConfig(d.nats, fail);
  const egressExcept = d.egressExcept ?? DEFAULT_EGRESS_EXCEPT;
  if (
    !Array.isArray(egressExcept) ||
    egressExcept.some((c) => typeof c !== "string" || !CIDR.test(c))
  ) {
    fail(
      "deployment.egressExcept: must be a list of CIDRs",
      "e.g. [169.254.169.254/32, 10.0.0.0/8]",
    );
  }
  const most = autoscale ? autoscale.max : replicas as number;
  if (store === undefined && Number.isInteger(most) && most > 1) {
    fail(
      `deployment.${autoscale ? "autoscale.max" : "replicas"}: ${most} replicas need ` +
        "deployment.store (PostgreSQL): the default SQLite store lives on one ReadWriteOnce volume, one replica",
      "add store: { secret: <Secret with the postgres:// URL>, key: url }, or use replicas: 1",
    );
  }
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
    store,
    storage,
    graceSeconds: Math.ceil((graceCheck as number) / 1000),
    autoscale,
    egressExcept: egressExcept as string[],
    ...(nats ? { nats } : {}),
  };
}

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

function isMap(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw);
}

function parseStore(raw: unknown, fail: Fail): DeploymentConfig["store"] {
  if (raw === undefined) return undefined;
  const hint = "e.g. store: { secret: pipedreamer-db, key: url }";
  if (!isMap(raw)) {
    fail("deployment.store: must be a map { secret, key }", hint);
    return undefined;
  }
  for (const k of Object.keys(raw)) {
    if (k !== "secret" && k !== "key") fail(`deployment.store: unknown key "${k}"`, hint);
  }
  const key = raw.key ?? "url";
  if (typeof raw.secret !== "string" || !DNS_SUBDOMAIN.test(raw.secret)) {
    fail(`deployment.store.secret: ${JSON.stringify(raw.secret)} is not a Secret name`, hint);
  }
  if (typeof key !== "string" || !/^[-._a-zA-Z0-9]+$/.test(key)) {
    fail(`deployment.store.key: ${JSON.stringify(key)} is not a Secret key`, hint);
  }
  return { secret: raw.secret as string, key: key as string };
}

function parseStorage(raw: unknown, fail: Fail): DeploymentConfig["storage"] {
  const out: DeploymentConfig["storage"] = { size: "1Gi" };
  if (raw === undefined) return out;
  if (!isMap(raw)) {
    fail("deployment.storage: must be a map { size, storageClass }", "e.g. { size: 5Gi }");
    return out;
  }
  for (const [k, v] of Object.entries(raw)) {
    if (k === "size") {
      if (typeof v !== "string" || !QUANTITY.test(v)) {
        fail(`deployment.storage.size: ${JSON.stringify(v)} is not a quantity`, "e.g. 5Gi");
      } else out.size = v;
    } else if (k === "storageClass") {
      if (typeof v !== "string" || !DNS_SUBDOMAIN.test(v)) {
        fail(`deployment.storage.storageClass: ${JSON.stringify(v)} is not a StorageClass name`);
      } else out.storageClass = v;
    } else fail(`deployment.storage: unknown key "${k}"`, "known keys: size, storageClass");
  }
  return out;
}

function parseAutoscale(raw: unknown, fail: Fail): DeploymentConfig["autoscale"] {
  if (raw === undefined) return undefined;
  const hint = "e.g. autoscale: { min: 2, max: 10, cpu: 70 }";
  if (!isMap(raw)) {
    fail("deployment.autoscale: must be a map { min, max, cpu }", hint);
    return undefined;
  }
  const keys = ["min", "max", "cpu", "keda", "lagThreshold"];
  for (const k of Object.keys(raw)) {
    if (!keys.includes(k)) fail(`deployment.autoscale: unknown key "${k}"`, `known keys: ${keys}`);
  }
  const min = raw.min ?? 1;
  const max = raw.max;
  const cpu = raw.cpu ?? 80;
  const int = (v: unknown, lo: number) => Number.isInteger(v) && (v as number) >= lo;
  if (!int(min, 1)) fail(`deployment.autoscale.min: must be an integer ≥ 1`, hint);
  if (!int(max, 1) || (int(min, 1) && (max as number) < (min as number))) {
    fail(`deployment.autoscale.max: must be an integer ≥ min`, hint);
  }
  if (!int(cpu, 1) || (cpu as number) > 100) {
    fail(`deployment.autoscale.cpu: target CPU utilization in percent (1-100)`, hint);
  }
  const keda = raw.keda ?? "auto";
  if (keda !== true && keda !== false && keda !== "auto") {
    fail(
      `deployment.autoscale.keda: ${JSON.stringify(keda)} is not true, false or auto`,
      "true: a KEDA ScaledObject; false: the CPU HorizontalPodAutoscaler; auto: KEDA where installed",
    );
  }
  const lagThreshold = raw.lagThreshold ?? 10;
  if (!int(lagThreshold, 1)) {
    fail(
      "deployment.autoscale.lagThreshold: must be an integer ≥ 1",
      "pending messages per replica KEDA aims for, e.g. lagThreshold: 10",
    );
  }
  return {
    min: min as number,
    max: max as number,
    cpu: cpu as number,
    keda: keda as boolean | "auto",
    lagThreshold: lagThreshold as number,
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
