/**
 * The subresources and virtual resources of the fake API server: pod logs, the service proxy
 * and SelfSubjectAccessReview.
 *
 * @module
 */

import { type HandlerState, isDenied, type Target } from "./_state.ts";
import { findResource } from "./_resources.ts";
import { badRequest, notFound, StatusError } from "./_status.ts";
import type { Obj } from "./_store.ts";

/** Answers a SelfSubjectAccessReview from the configured denials. */
export function selfSubjectAccessReview(state: HandlerState, body: Obj): Response {
  const a =
    ((body.spec as Record<string, unknown> | undefined)?.resourceAttributes ?? {}) as Record<
      string,
      string
    >;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? "";
  const denied = isDenied(state.denials, {
    verb: a.verb ?? "",
    resource,
    group: a.group ?? "",
    namespace: a.namespace || undefined,
  });
  return Response.json({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    metadata: { creationTimestamp: null },
    spec: body.spec,
    status: denied
      ? { allowed: false, reason: "denied by the fake's RBAC rules" }
      : { allowed: true, reason: "allowed by the fake" },
  }, { status: 201 });
}

/** `pods/<name>/log`: 400 while the container waits, else the log (a stream when following). */
export function podLog(state: HandlerState, t: Target, q: URLSearchParams): Response {
  const pod = state.store.get(t.res, t.namespace, t.name!);
  if (!pod) throw notFound("pods", "", t.name!);
  const statuses =
    ((pod.status as Record<string, unknown> | undefined)?.containerStatuses ?? []) as {
      name: string;
      state?: { waiting?: { reason?: string } };
    }[];
  const container = q.get("container") ?? statuses[0]?.name ?? "";
  const status = statuses.find((s) => s.name === container);
  if (!status || status.state?.waiting) {
    const reason = status?.state?.waiting?.reason ?? "ContainerCreating";
    throw badRequest(`container "${container}" in pod "${t.name}" is waiting to start: ${reason}`);
  }
  const tail = q.get("tailLines");
  const stream = state.logs.read(t.namespace!, t.name!, {
    tailLines: tail === null ? undefined : Number(tail),
    follow: q.get("follow") === "true",
  });
  return new Response(stream, { headers: { "content-type": "text/plain" } });
}

/** `services/<name>[:port]/proxy/<path>`: forwards to the test's backend without credentials. */
export async function proxy(
  state: HandlerState,
  req: Request,
  url: URL,
  t: Target,
): Promise<Response> {
  // `name`, `name:port` or `scheme:name:port`
  const segs = t.name!.split(":");
  const name = segs.length === 3 ? segs[1]! : segs[0]!;
  const port = segs.length === 3 ? segs[2] : segs[1];
  const svc = state.store.get(t.res, t.namespace, name);
  if (!svc) throw notFound("services", "", name);
  const ports = ((svc.spec as Record<string, unknown>)?.ports ?? []) as {
    name?: string;
    port: number;
  }[];
  if (port !== undefined && !ports.some((p) => p.name === port || String(p.port) === port)) {
    throw new StatusError(
      503,
      "ServiceUnavailable",
      `no endpoints available for service "${t.name}"`,
    );
  }
  const selector = ((svc.spec as Record<string, unknown>)?.selector ?? {}) as Record<
    string,
    string
  >;
  const podRes = findResource("", "v1", "pods")!;
  const ready = state.store.list(podRes, t.namespace).filter((p) =>
    Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v) &&
    (((p.status as Record<string, unknown> | undefined)?.conditions ?? []) as {
      type: string;
      status: string;
    }[])
      .some((c) => c.type === "Ready" && c.status === "True")
  );
  if (ready.length === 0) {
    throw new StatusError(
      503,
      "ServiceUnavailable",
      `no endpoints available for service "${name}"`,
    );
  }
  const backend = state.backends.get(`${t.namespace}/${name}`);
  if (!backend) {
    throw new StatusError(
      503,
      "ServiceUnavailable",
      `error trying to reach service: dial tcp 10.0.0.2:${
        ports[0]?.port ?? 80
      }: connect: connection refused`,
    );
  }
  const path = `/${t.rest.join("/")}${url.search}`;
  // The API server authenticates the caller and drops its credentials before proxying.
  const headers = new Headers(req.headers);
  headers.delete("authorization");
  headers.delete("host");
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
  if (typeof backend === "function") {
    return await backend(
      new Request(`http://${name}.${t.namespace}.svc${path}`, {
        method: req.method,
        headers,
        body,
      }),
    );
  }
  const res = await fetch(`${backend.replace(/\/+$/, "")}${path}`, {
    method: req.method,
    headers,
    body,
  });
  return new Response(res.body, { status: res.status, headers: res.headers });
}
