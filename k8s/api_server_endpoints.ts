/**
 * The API server's endpoints (those of the `kubernetes` Service in `default`): the only egress
 * the NetworkPolicy opens for nodes with `capabilities.k8s`. Deploy reads them from the
 * cluster; `--dry-run` and `--out` take them from `--api-server <ip:port>`.
 *
 * @module
 */

import { resourcePath } from "./_resources.ts";
import type { KubeClient } from "./kube_client.ts";

/** One API server address. */
export interface ApiServerEndpoint {
  ip: string;
  port: number;
}

/**
 * Reads the `kubernetes` Service's endpoints.
 *
 * @throws {Error} when the cluster has none.
 */
export async function readApiServerEndpoints(client: KubeClient): Promise<ApiServerEndpoint[]> {
  const endpoints = await client.get<{
    subsets?: { addresses?: { ip: string }[]; ports?: { port: number; protocol?: string }[] }[];
  }>(resourcePath("v1", "Endpoints", "default", "kubernetes"));
  const out = (endpoints?.subsets ?? []).flatMap((s) =>
    (s.addresses ?? []).flatMap((a) =>
      (s.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP").map((p) => ({
        ip: a.ip,
        port: p.port,
      }))
    )
  );
  if (out.length === 0) {
    throw new Error(
      'Cannot find the API server\'s endpoints (Endpoints "kubernetes" in namespace "default"); pass --api-server <ip:port>',
    );
  }
  return out;
}

/**
 * Parses `--api-server` values: `10.0.0.1:6443`, `[fd00::1]:6443`.
 *
 * @throws {TypeError} for anything else.
 */
export function parseApiServerEndpoint(text: string): ApiServerEndpoint {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) {
    throw new TypeError(
      `Cannot use --api-server "${text}": expected <ip>:<port>, e.g. 10.0.0.1:6443 or [fd00::1]:6443`,
    );
  }
  return { ip: m[1] ?? m[2]!, port };
}
