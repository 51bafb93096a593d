/**
 * The fake API server's HTTP handler: authentication, RBAC denials, discovery, the REST verbs
 * on resources, pod logs, the service proxy and SelfSubjectAccessReview.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { customResources, unknownCustomFields } from "./_crd.ts";
import {
  apiGroups,
  apiVersionOf,
  discovery,
  type FakeResource,
  findResource,
  resourceByKind,
} from "./_resources.ts";
import { type HandlerState, isDenied, type Target } from "./_state.ts";
import { badRequest, notFound, qualified, StatusError } from "./_status.ts";
import { podLog, proxy, selfSubjectAccessReview } from "./_subresources.ts";
import type { Obj, Store } from "./_store.ts";
import { validateFields } from "./_validate.ts";

/** Handles one request. */
export async function handle(state: HandlerState, req: Request): Promise<Response> {
  const url = new URL(req.url);
  state.requests.push({
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    contentType: req.headers.get("content-type") ?? undefined,
    headers: Object.fromEntries(req.headers),
  });
  state.onRequest?.();
  try {
    if (req.headers.get("authorization") !== `Bearer ${state.token}`) {
      throw new StatusError(401, "Unauthorized", "Unauthorized");
    }
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (url.pathname === "/version") {
      return Response.json({ major: "1", minor: "34", gitVersion: "v1.34.0-fake" });
    }
    if (url.pathname === "/api") return Response.json({ kind: "APIVersions", versions: ["v1"] });
    const custom = servedCustomResources(state.store);
    if (url.pathname === "/apis") return Response.json(apiGroups(custom));
    const target = resolveTarget(parts, custom);
    if (!target) {
      const doc = parts[0] === "api" && parts.length === 2
        ? discovery("", parts[1]!)
        : parts[0] === "apis" && parts.length === 3
        ? discovery(parts[1]!, parts[2]!, custom)
        : undefined;
      if (doc) return Response.json(doc);
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    }
    authorize(state, req.method, url, target);
    return await dispatch(state, req, url, target);
  } catch (error) {
    if (error instanceof StatusError) return error.toResponse();
    return new StatusError(500, "InternalError", `Internal error occurred: ${error}`).toResponse();
  }
}

/** The resources the stored CustomResourceDefinitions define. */
export function servedCustomResources(store: Store): FakeResource[] {
  return customResources(
    store.list(resourceByKind("apiextensions.k8s.io/v1", "CustomResourceDefinition")!, undefined),
  );
}

function resolveTarget(parts: string[], custom: FakeResource[]): Target | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    [group, version, rest] = ["", parts[1]!, parts.slice(2)];
  } else if (parts[0] === "apis" && parts.length >= 4) {
    [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const res = findResource(group, version, rest[0]!, custom);
  if (!res) {
    throw new StatusError(404, "NotFound", "the server could not find the requested resource");
  }
  return {
    res,
    namespace: res.namespaced ? namespace : undefined,
    name: rest[1],
    subresource: rest[2],
    rest: rest.slice(3),
  };
}

function verbOf(method: string, url: URL, t: Target): string {
  switch (method) {
    case "GET":
      return url.searchParams.get("watch") === "true" ? "watch" : t.name ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return t.name ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

function authorize(state: HandlerState, method: string, url: URL, t: Target): void {
  const verb = verbOf(method, url, t);
  const resource = t.subresource ? `${t.res.plural}/${t.subresource}` : t.res.plural;
  if (!isDenied(state.denials, { verb, resource, group: t.res.group, namespace: t.namespace })) {
    return;
  }
  const where = t.namespace ? ` in the namespace "${t.namespace}"` : " at the cluster scope";
  const target = t.name
    ? `${qualified(t.res.plural, t.res.group)} "${t.name}"`
    : qualified(t.res.plural, t.res.group);
  throw new StatusError(
    403,
    "Forbidden",
    `${target} is forbidden: User "${state.user}" cannot ${verb} resource "${resource}" in API group "${t.res.group}"${where}`,
    { name: t.name, group: t.res.group, kind: t.res.plural },
  );
}

async function dispatch(state: HandlerState, req: Request, url: URL, t: Target): Promise<Response> {
  const { store, controllers } = state;
  const q = url.searchParams;
  if (t.res.kind === "SelfSubjectAccessReview") {
    return selfSubjectAccessReview(state, await readBody(req));
  }
  if (t.subresource === "log" && t.res.kind === "Pod") return podLog(state, t, q);
  if (t.subresource === "proxy" && t.res.kind === "Service") return await proxy(state, req, url, t);
  if (t.subresource) {
    throw new StatusError(404, "NotFound", "the server could not find the requested resource");
  }
  if (
    t.res.namespaced && t.namespace !== undefined && req.method !== "GET" && req.method !== "DELETE"
  ) {
    requireNamespace(store, t.namespace);
  }
  const manager = q.get("fieldManager") ?? userAgentManager(req);
  const strict = q.get("fieldValidation") === "Strict";
  switch (req.method) {
    case "GET": {
      if (t.name) {
        if (t.res.kind === "Deployment") controllers.step(t.namespace!, t.name);
        const o = store.get(t.res, t.namespace, t.name);
        if (!o) throw notFound(t.res.plural, t.res.group, t.name);
        return Response.json(o);
      }
      const items = store.list(t.res, t.namespace, q.get("labelSelector"), q.get("fieldSelector"));
      return Response.json({
        kind: `${t.res.kind}List`,
        apiVersion: apiVersionOf(t.res),
        metadata: { resourceVersion: store.resourceVersion },
        items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
      });
    }
    case "POST": {
      const body = await readBody(req);
      checkIdentity(t, body, body.metadata?.name);
      validateWrite(t.res, body, strict);
      return Response.json(store.create(t.res, t.namespace, body, manager), { status: 201 });
    }
    case "PUT": {
      const body = await readBody(req);
      checkIdentity(t, body, t.name);
      validateWrite(t.res, body, strict);
      return Response.json(store.update(t.res, t.namespace, body, manager));
    }
    case "PATCH":
      return patch(state, req, t, manager, strict, q.get("force") === "true");
    case "DELETE": {
      if (!t.name) {
        throw new StatusError(
          405,
          "MethodNotAllowed",
          "deletecollection is not supported by the fake",
        );
      }
      const text = await req.text();
      const options = text ? JSON.parse(text) as { propagationPolicy?: string } : {};
      const deleted = store.delete(
        t.res,
        t.namespace,
        t.name,
        q.get("propagationPolicy") ?? options.propagationPolicy,
      );
      if (t.res.kind === "Pod") state.logs.close(t.namespace!, t.name);
      return Response.json(deleted);
    }
    default:
      throw new StatusError(405, "MethodNotAllowed", `method ${req.method} is not allowed`);
  }
}

async function patch(
  state: HandlerState,
  req: Request,
  t: Target,
  manager: string,
  strict: boolean,
  force: boolean,
): Promise<Response> {
  const { store } = state;
  if (!t.name) throw new StatusError(405, "MethodNotAllowed", "PATCH needs a name");
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const text = await req.text();
  if (type === "application/apply-patch+yaml") {
    const manager = new URL(req.url).searchParams.get("fieldManager");
    if (!manager) {
      throw new StatusError(
        422,
        "Invalid",
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    }
    const body = parseYaml(text) as Obj;
    checkIdentity(t, body, t.name);
    validateWrite(t.res, body, strict);
    const live = store.get(t.res, t.namespace, t.name);
    const result = store.apply(t.res, t.namespace, body, manager, force);
    return Response.json(result, { status: live ? 200 : 201 });
  }
  if (
    type !== "application/merge-patch+json" && type !== "application/strategic-merge-patch+json"
  ) {
    throw new StatusError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
    );
  }
  const body = JSON.parse(text) as Record<string, unknown>;
  const kind = type === "application/merge-patch+json" ? "merge" : "strategic";
  return Response.json(store.patch(t.res, t.namespace, t.name, body, kind, manager));
}

function requireNamespace(store: Store, namespace: string): void {
  const nsRes = findResource("", "v1", "namespaces")!;
  if (!store.get(nsRes, undefined, namespace)) throw notFound("namespaces", "", namespace);
}

function checkIdentity(t: Target, body: Obj, name: string | undefined): void {
  if (!body || typeof body !== "object" || typeof body.metadata !== "object") {
    throw badRequest("the body of the request must be an object with metadata");
  }
  if (body.apiVersion !== apiVersionOf(t.res) || body.kind !== t.res.kind) {
    throw badRequest(
      `the API version in the data (${body.apiVersion}) does not match the expected API version (${
        apiVersionOf(t.res)
      }) or kind ${body.kind} is not ${t.res.kind}`,
    );
  }
  if (name !== undefined && body.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  if (
    t.res.namespaced && body.metadata.namespace !== undefined &&
    body.metadata.namespace !== t.namespace
  ) {
    throw badRequest(
      `the namespace of the provided object does not match the namespace sent on the request`,
    );
  }
}

/** Strict field validation (built-in kinds), or a custom resource's pruning of unknown fields. */
function validateWrite(res: FakeResource, body: Obj, strict: boolean): void {
  if (res.schema === undefined) {
    if (strict) validateFields(body);
    return;
  }
  const unknown = unknownCustomFields(res, body, !strict);
  if (strict) validateFields(body, unknown);
}

async function readBody(req: Request): Promise<Obj> {
  const text = await req.text();
  try {
    return JSON.parse(text) as Obj;
  } catch {
    throw badRequest("the body of the request was not valid JSON");
  }
}

function userAgentManager(req: Request): string {
  return (req.headers.get("user-agent") ?? "unknown").split("/")[0] ?? "unknown";
}
