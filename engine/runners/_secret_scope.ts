/**
 * Scoped secrets (SPEC §4): a node's `ctx.secrets` holds only the services listed in its
 * `capabilities.secrets`, plus those whose base URL host its `net` allows. The others are
 * withheld: only their names reach the sandbox, so `ctx.fetch` to one of them can name the fix.
 *
 * @module
 */

import type { CompiledNode } from "../workflow_model.ts";

/** What a node may see of the workflow's secrets. */
export interface ScopedSecrets {
  secrets: Record<string, unknown>;
  /** Services with secrets the node was not granted. */
  withheld: string[];
}

/** The base URL `ctx.fetch(service, …)` calls (see serviceUrl in engine/runners/_context.ts). */
function baseUrl(services: Readonly<Record<string, string>>, service: string): URL | undefined {
  const base = Object.hasOwn(services, service)
    ? services[service]!
    : `https://api.${service.toLowerCase()}.com`;
  return URL.canParse(base) ? new URL(base) : undefined;
}

/** Whether a `capabilities.net` entry lets a node reach `url` (`github.com` → `*.github.com`). */
function netAllows(entry: string, url: URL): boolean {
  if (entry === "*") return true;
  const match = /^(\*\.)?([^:]+|\[[^\]]+\])(?::(\d+))?$/.exec(entry);
  if (!match) return false;
  const [, wildcard, host, port] = match;
  const urlHost = url.hostname.toLowerCase();
  const want = host!.toLowerCase();
  const hostOk = wildcard
    ? urlHost.endsWith(`.${want}`)
    : urlHost === want || (/[a-z]/.test(want) && urlHost.endsWith(`.${want}`));
  if (!hostOk) return false;
  if (port === undefined) return true;
  const urlPort = url.port || (url.protocol === "http:" ? "80" : "443");
  return urlPort === port;
}

const cache = new WeakMap<
  CompiledNode,
  { secrets: object; services: object; scoped: ScopedSecrets }
>();

/**
 * The secrets `node` may see. Cached per node, secrets and services objects, so a warm call
 * costs a lookup.
 */
export function scopeSecrets(
  node: CompiledNode,
  secrets: Record<string, unknown>,
  services: Readonly<Record<string, string>>,
): ScopedSecrets {
  const cached = cache.get(node);
  if (cached && cached.secrets === secrets && cached.services === services) return cached.scoped;
  const listed = node.capabilities.secrets ?? [];
  const net = node.capabilities.net;
  const scoped: ScopedSecrets = { secrets: {}, withheld: [] };
  for (const [service, value] of Object.entries(secrets)) {
    const url = baseUrl(services, service);
    const granted = listed.includes(service) ||
      (url !== undefined && net.some((entry) => netAllows(entry, url)));
    if (granted) scoped.secrets[service] = value;
    else scoped.withheld.push(service);
  }
  cache.set(node, { secrets, services, scoped });
  return scoped;
}
