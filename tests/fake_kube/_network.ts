/**
 * The fake cluster's network for engine processes: an HTTP forward proxy (the processes get it
 * as `HTTP_PROXY`) that stands in for cluster DNS and kube-proxy. A request to
 * `http://<service>.<namespace>.svc[.cluster.local]:<port>/…` reaches the Service's backend
 * (the same one the API server's service proxy uses) when the Service exists, has that port and
 * a ready pod behind it; otherwise the connection is refused (502 here), as from a ClusterIP
 * without endpoints. Unlike the service proxy, nothing is authenticated or stripped: this is
 * pod-to-pod traffic.
 *
 * @module
 */

import { findResource } from "./_resources.ts";
import type { HandlerState } from "./_state.ts";

const SERVICE_HOST = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/;

function refused(message: string): Response {
  return new Response(`fake cluster network: ${message}`, { status: 502 });
}

/** Handles one proxied (absolute-form) request. */
export async function routeInCluster(state: HandlerState, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const m = SERVICE_HOST.exec(url.hostname);
  if (!m) return refused(`cannot resolve ${url.hostname}`);
  const [, name, namespace] = m;
  const svc = state.store.get(findResource("", "v1", "services")!, namespace, name!);
  if (!svc) return refused(`cannot resolve ${url.hostname}: no Service "${namespace}/${name}"`);
  const spec = svc.spec as { selector?: Record<string, string>; ports?: { port: number }[] };
  const port = Number(url.port || 80);
  if (!(spec.ports ?? []).some((p) => p.port === port)) {
    return refused(`connection refused: Service "${name}" has no port ${port}`);
  }
  const ready = state.store.list(findResource("", "v1", "pods")!, namespace).some((p) =>
    Object.entries(spec.selector ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v) &&
    ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ??
      []).some((c) => c.type === "Ready" && c.status === "True")
  );
  const backend = state.backends.get(`${namespace}/${name}`);
  if (!ready || !backend) return refused(`connection refused: no ready endpoint of "${name}"`);
  const headers = new Headers(req.headers);
  headers.delete("proxy-connection");
  headers.delete("proxy-authorization");
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
  const target = typeof backend === "function"
    ? `http://${name}.${namespace}.svc${url.pathname}${url.search}`
    : `${backend.replace(/\/+$/, "")}${url.pathname}${url.search}`;
  const forwarded = new Request(target, { method: req.method, headers, body });
  if (typeof backend === "function") return await backend(forwarded);
  const res = await fetch(forwarded);
  return new Response(res.body, { status: res.status, headers: res.headers });
}
