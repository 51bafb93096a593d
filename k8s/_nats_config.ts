/**
 * `deployment.nats`: the NATS server the engine's queue triggers and webhooks use in the
 * cluster, and what follows from it — the serve flag (`--nats-url`, or `--nats-url-file` on a
 * mounted Secret when the URL carries credentials), the NetworkPolicy egress to it and KEDA's
 * monitoring endpoint.
 *
 * ```yaml
 * deployment:
 *   nats: { url: nats://nats.messaging.svc:4222 }            # a plain in-cluster URL
 *   nats: { secret: nats-conn, key: url, host: nats.messaging.svc:4222 }   # URL with credentials
 * ```
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";

/** The parsed `deployment.nats`. */
export interface NatsConfig {
  /** A URL without credentials (comma-separated servers allowed), passed as `--nats-url`. */
  url?: string;
  /** An existing Secret whose `key` holds the URL: mounted as a file, read by `--nats-url-file`. */
  secret?: { name: string; key: string };
  /** The servers as `host:port` (from `url`, or `host` next to `secret`): NetworkPolicy egress. */
  servers: { host: string; port: number }[];
  /** NATS monitoring endpoint (`host:port`) for KEDA; default the first server on port 8222. */
  monitoring?: string;
  /** NATS account KEDA reads the consumer from. @default "$G" (no accounts configured) */
  account: string;
}

/** Where the Secret's URL file is mounted in the engine container. */
export const NATS_URL_DIR = "/app/nats";
/** NATS's client port and monitoring port. */
const CLIENT_PORT = 4222;
const MONITORING_PORT = 8222;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/;
const HINT = "e.g. nats: { url: nats://nats.messaging.svc:4222 }, or " +
  "nats: { secret: nats-conn, key: url, host: nats.messaging.svc:4222 } when the URL holds credentials";

type Fail = (message: string, hint?: string) => void;

/** Parses `deployment.nats` (undefined when absent). */
export function parseNatsConfig(raw: unknown, fail: Fail): NatsConfig | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail("deployment.nats: must be a map { url } or { secret, key }", HINT);
    return undefined;
  }
  const map = raw as Record<string, unknown>;
  const known = ["url", "secret", "key", "host", "monitoring", "account"];
  for (const k of Object.keys(map)) {
    if (!known.includes(k)) fail(`deployment.nats: unknown key "${k}"`, `known keys: ${known}`);
  }
  const out: NatsConfig = { servers: [], account: "$G" };
  if ((map.url === undefined) === (map.secret === undefined)) {
    fail("deployment.nats: give either url (no credentials) or secret (with key)", HINT);
    return undefined;
  }
  if (map.url !== undefined) {
    if (map.key !== undefined || map.host !== undefined) {
      fail("deployment.nats: key and host go with secret, not with url", HINT);
    }
    const servers = typeof map.url === "string" ? parseUrls(map.url) : undefined;
    if (servers === undefined) {
      fail(`deployment.nats.url: ${JSON.stringify(map.url)} is not a NATS URL`, HINT);
    } else if ((map.url as string).includes("@")) {
      // Credentials in a URL would end up in the Deployment's args, readable by anyone who can
      // read the Deployment: they belong in a Secret.
      fail(
        "deployment.nats.url: holds credentials; put the URL in a Secret instead",
        "nats: { secret: <Secret holding the URL>, key: url, host: <host:port> }",
      );
    } else {
      out.url = map.url as string;
      out.servers = servers;
    }
  } else {
    const key = map.key ?? "url";
    if (typeof map.secret !== "string" || !DNS_SUBDOMAIN.test(map.secret)) {
      fail(`deployment.nats.secret: ${JSON.stringify(map.secret)} is not a Secret name`, HINT);
    } else if (typeof key !== "string" || !/^[-._a-zA-Z0-9]+$/.test(key)) {
      fail(`deployment.nats.key: ${JSON.stringify(key)} is not a Secret key`, HINT);
    } else out.secret = { name: map.secret, key };
    if (map.host !== undefined) {
      const server = typeof map.host === "string" ? hostPort(map.host, CLIENT_PORT) : undefined;
      if (server) out.servers = [server];
      else fail(`deployment.nats.host: ${JSON.stringify(map.host)} is not host:port`, HINT);
    }
  }
  if (map.monitoring !== undefined) {
    if (typeof map.monitoring !== "string" || !hostPort(map.monitoring, MONITORING_PORT)) {
      fail(
        `deployment.nats.monitoring: ${JSON.stringify(map.monitoring)} is not host:port`,
        "the NATS monitoring endpoint, e.g. monitoring: nats.messaging.svc:8222",
      );
    } else out.monitoring = map.monitoring;
  } else if (out.servers[0]) {
    out.monitoring = `${out.servers[0].host}:${MONITORING_PORT}`;
  }
  if (map.account !== undefined) {
    if (typeof map.account !== "string" || map.account.trim() === "") {
      fail("deployment.nats.account: must be a NATS account name", 'default "$G"');
    } else out.account = map.account;
  }
  return out;
}

function parseUrls(text: string): { host: string; port: number }[] | undefined {
  const servers: { host: string; port: number }[] = [];
  for (const part of text.split(",").map((s) => s.trim())) {
    const m = /^(?:(nats|tls|ws|wss):\/\/)?(?:[^/@]*@)?([^/]+)\/?$/.exec(part);
    const server = m ? hostPort(m[2]!, CLIENT_PORT) : undefined;
    if (!server) return undefined;
    servers.push(server);
  }
  return servers.length > 0 ? servers : undefined;
}

function hostPort(text: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = HOST_PORT.exec(text);
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** True when the workflow needs NATS: a queue trigger or a webhook. */
export function usesNats(workflow: CompiledWorkflow): boolean {
  return workflow.triggers.some((t) => t.type === "queue") ||
    Object.keys(workflow.webhooks ?? {}).length > 0;
}

/**
 * A workflow whose queue triggers or webhooks would stay inactive in the cluster: the issue
 * names the trigger (located later from its path, `triggers[0]`).
 */
export function natsIssues(
  workflow: CompiledWorkflow,
  nats: NatsConfig | undefined,
): { message: string; hint: string }[] {
  if (nats !== undefined || !usesNats(workflow)) return [];
  const index = workflow.triggers.findIndex((t) => t.type === "queue");
  const what = index >= 0
    ? `triggers[${index}]: a queue trigger`
    : `webhooks.${Object.keys(workflow.webhooks ?? {})[0]}: a webhook`;
  return [{
    message: `${what} needs NATS in the cluster, and deployment.nats is not set ` +
      "(the engine would start with its queue triggers and webhooks inactive)",
    hint: "add deployment: { nats: { url: nats://<service>.<namespace>.svc:4222 } }, or " +
      "nats: { secret: <Secret>, key: url, host: <host:port> } when the URL holds credentials",
  }];
}

/** The serve flags that point the engine at NATS. */
export function natsArgs(nats: NatsConfig | undefined): string[] {
  if (!nats) return [];
  return nats.secret ? ["--nats-url-file", `${NATS_URL_DIR}/url`] : ["--nats-url", nats.url!];
}

/** The Secret volume and its read-only mount when the URL comes from a Secret. */
export function natsVolume(
  nats: NatsConfig | undefined,
): { volume: Record<string, unknown>; mount: Record<string, unknown> } | undefined {
  if (!nats?.secret) return undefined;
  return {
    volume: {
      name: "nats",
      secret: {
        secretName: nats.secret.name,
        items: [{ key: nats.secret.key, path: "url" }],
        defaultMode: 0o440,
      },
    },
    mount: { name: "nats", mountPath: NATS_URL_DIR, readOnly: true },
  };
}

type Rule = Record<string, unknown>;

/**
 * Egress to the NATS servers: an IP exactly, an in-cluster Service name
 * (`<service>.<namespace>.svc[.cluster.local]`) the pods of that namespace, a single label this namespace's pods, any other hostname `anywhere` (every address
 * but `deployment.egressExcept`); each on its port. Without a known server (a Secret without
 * `host`) the client port of pods in any namespace.
 */
export function natsEgress(nats: NatsConfig, anywhere: Rule[]): Rule[] {
  if (nats.servers.length === 0) {
    return [{ to: [{ namespaceSelector: {} }], ports: [tcp(CLIENT_PORT)] }];
  }
  const rules = new Map<string, Rule>();
  for (const { host, port } of nats.servers) {
    const rule = { to: natsPeers(host, anywhere), ports: [tcp(port)] };
    rules.set(JSON.stringify(rule), rule);
  }
  return [...rules.values()];
}

function natsPeers(host: string, anywhere: Rule[]): Rule[] {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return [{ ipBlock: { cidr: `${host}/32` } }];
  if (host.includes(":")) return [{ ipBlock: { cidr: `${host}/128` } }];
  const labels = host.replace(/\.cluster\.local$/, "").replace(/\.svc$/, "").split(".");
  const inCluster = host.endsWith(".svc") || host.endsWith(".svc.cluster.local") ||
    labels.length === 1;
  if (!inCluster) return anywhere;
  if (labels.length === 1) return [{ podSelector: {} }];
  return [{
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": labels[1]! } },
  }];
}

function tcp(port: number) {
  return { protocol: "TCP", port };
}
