/**
 * NetworkPolicies: the engine pods may reach the cluster DNS and what the nodes'
 * `capabilities.net` declare; the cron Job pods may reach the cluster DNS and the engine only.
 *
 * NetworkPolicy matches IP blocks and ports, never hostnames, so this is best effort: an IP or
 * CIDR becomes an exact ipBlock; a hostname opens its port (443 and 80 unless `host:port`) to
 * any address except `deployment.egressExcept` (cloud metadata, the pod and service CIDRs),
 * and the engine's sandbox keeps enforcing the hostname itself. In-cluster names (`*.svc`,
 * `*.cluster.local`, single labels) open the port to pods of any namespace. DNS goes only to
 * the cluster DNS pods (`k8s-app: kube-dns` in kube-system). A node with `capabilities.k8s`
 * may reach the API server's endpoints only (the `kubernetes` Service's, looked up by deploy);
 * queue triggers and webhooks open `deployment.nats`'s servers (_nats_config.ts).
 *
 * @module
 */

import { Component, engineSelector, HTTP_PORT_NAME } from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";
import { natsEgress, usesNats } from "./_nats_config.ts";

type Rule = Record<string, unknown>;

/** The cluster DNS (CoreDNS / kube-dns keep this label in kubeadm, k3s, GKE, EKS and AKS). */
const DNS_RULE: Rule = {
  to: [{
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
    podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
  }],
  ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
};

/** Every address but `except` (split by IP family). */
function anywhereExcept(except: string[]): Rule[] {
  const v4 = except.filter((c) => !c.includes(":"));
  const v6 = except.filter((c) => c.includes(":"));
  return [
    { ipBlock: { cidr: "0.0.0.0/0", ...(v4.length > 0 ? { except: v4 } : {}) } },
    { ipBlock: { cidr: "::/0", ...(v6.length > 0 ? { except: v6 } : {}) } },
  ];
}
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The engine's and the cron Jobs' NetworkPolicies (none when `deployment.networkPolicy: false`). */
export function networkPolicies(ctx: ManifestContext): KubeObject[] {
  if (!ctx.config.networkPolicy) return [];
  const labels = ctx.labels(Component.Network);
  const engine: KubeObject = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: ctx.names.networkPolicy, namespace: ctx.namespace, labels },
    spec: {
      podSelector: { matchLabels: engineSelector(ctx.workflow.name) },
      policyTypes: ["Egress"],
      egress: engineEgress(ctx),
    },
  };
  const hasCron = ctx.workflow.triggers.some((t) => t.type === "cron");
  if (!hasCron) return [engine];
  const cron: KubeObject = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: ctx.names.cronNetworkPolicy, namespace: ctx.namespace, labels },
    spec: {
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/instance": ctx.workflow.name,
          "app.kubernetes.io/component": Component.Cron,
        },
      },
      policyTypes: ["Egress"],
      egress: [
        DNS_RULE,
        {
          to: [{ podSelector: { matchLabels: engineSelector(ctx.workflow.name) } }],
          ports: [{ protocol: "TCP", port: HTTP_PORT_NAME }],
        },
      ],
    },
  };
  return [engine, cron];
}

function engineEgress(ctx: ManifestContext): Rule[] {
  const rules: Rule[] = [DNS_RULE];
  const nodes = [
    ...Object.values(ctx.workflow.nodes),
    ...(ctx.workflow.onError ? [ctx.workflow.onError] : []),
  ];
  const hosts = [...new Set(nodes.flatMap((n) => n.capabilities.net))].sort();
  if (hosts.includes("*")) return [{}];
  const publicPorts = new Set<number>();
  const clusterPorts = new Set<number>();
  for (const entry of hosts) {
    const { host, port } = splitHostPort(entry);
    const ports = port ? [port] : [443, 80];
    const cidr = toCidr(host);
    if (cidr) {
      rules.push({ to: [{ ipBlock: { cidr } }], ports: ports.map(tcp) });
    } else if (isClusterName(host)) {
      for (const p of ports) clusterPorts.add(p);
    } else {
      for (const p of ports) publicPorts.add(p);
    }
  }
  if (nodes.some((n) => n.capabilities.k8s !== undefined && n.capabilities.k8s !== false)) {
    const endpoints = ctx.apiServerEndpoints;
    if (!endpoints || endpoints.length === 0) {
      throw new TypeError(
        `Cannot generate the NetworkPolicy of "${ctx.workflow.name}": a node declares capabilities.k8s, ` +
          "so the API server's endpoints are needed; pass --api-server <ip:port> (see `kubectl get endpoints kubernetes -n default`) " +
          "or set deployment.networkPolicy: false",
      );
    }
    const byIp = new Map<string, Set<number>>();
    for (const e of endpoints) byIp.set(e.ip, (byIp.get(e.ip) ?? new Set()).add(e.port));
    for (const [ip, ports] of [...byIp].sort(([a], [b]) => a.localeCompare(b))) {
      rules.push({
        to: [{ ipBlock: { cidr: toCidr(ip)! } }],
        ports: [...ports].sort(byNumber).map(tcp),
      });
    }
  }
  if (publicPorts.size > 0) {
    rules.push({
      to: anywhereExcept(ctx.config.egressExcept),
      ports: [...publicPorts].sort(byNumber).map(tcp),
    });
  }
  const nats = ctx.config.nats;
  if (nats && usesNats(ctx.workflow)) {
    rules.push(...natsEgress(nats, anywhereExcept(ctx.config.egressExcept)));
  }
  if (clusterPorts.size > 0) {
    rules.push({
      to: [{ namespaceSelector: {} }],
      ports: [...clusterPorts].sort(byNumber).map(tcp),
    });
  }
  return rules;
}

function tcp(port: number) {
  return { protocol: "TCP", port };
}

function byNumber(a: number, b: number): number {
  return a - b;
}

function splitHostPort(entry: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  const m = /^([^:/]+(?:\/\d+)?)(?::(\d+))?$/.exec(entry);
  if (m) return { host: m[1]!, port: m[2] ? Number(m[2]) : undefined };
  return { host: entry };
}

function toCidr(host: string): string | undefined {
  const [ip, bits] = host.split("/");
  if (ip && IPV4.test(ip)) return `${ip}/${bits ?? "32"}`;
  if (ip && ip.includes(":")) return `${ip}/${bits ?? "128"}`;
  return undefined;
}

function isClusterName(host: string): boolean {
  return !host.includes(".") || host.endsWith(".svc") || host.endsWith(".cluster.local");
}
