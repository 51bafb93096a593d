/**
 * The Kubernetes side of `ctx.k8s` for nodes that declare `capabilities.k8s`: a transport
 * (the real API through the service account token and CA in the cluster, or the local
 * kubeconfig in dev), a fixture mock (`"k8s": [ … ]` entries, like `"fetch"`), a guard that
 * enforces the node's declared rules, and the small API nodes call.
 *
 * The engine wires it: the sandboxed node calls `ctx.k8s.*`, the call is passed to the host,
 * and the host answers it with the (guarded) transport, as it does for `ctx.fetch` mocks.
 *
 * @module
 */

import { NodeFailure } from "../engine/mod.ts";
import {
  k8sAllows,
  type K8sCapability,
  parseK8sCapability,
  requestAttributes,
  ruleHint,
} from "./_k8s_capability.ts";
import { type KubeClient, loadKubeClient } from "./kube_client.ts";

/** One API call made through `ctx.k8s`. */
export interface K8sRequestInfo {
  method: string;
  /** Path with optional query, e.g. `/api/v1/pods?labelSelector=app%3Dx`. */
  path: string;
  body?: unknown;
}

/** Its answer: status and parsed JSON (text when not JSON). */
export interface K8sResponseInfo {
  status: number;
  body: unknown;
}

/** Answers `ctx.k8s` calls. */
export type K8sTransport = (request: K8sRequestInfo) => Promise<K8sResponseInfo>;

/**
 * The real transport: in a pod, the service account's token and CA (from
 * /var/run/secrets/kubernetes.io/serviceaccount); on a laptop, the kubeconfig.
 *
 * @throws {TypeError} when no kubeconfig and no service account exist.
 * @example
 * ```ts
 * const transport = createK8sTransport();
 * const { body } = await transport({ method: "GET", path: "/api/v1/nodes" });
 * ```
 */
export function createK8sTransport(
  options: { client?: KubeClient; context?: string } = {},
): K8sTransport {
  const client = options.client ?? loadKubeClient({ context: options.context });
  return async (request) => {
    const [path, search] = splitQuery(request.path);
    const res = await client.request(request.method.toUpperCase(), path, {
      query: Object.fromEntries(new URLSearchParams(search)),
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: parseBody(text) };
  };
}

/** One `"k8s"` entry of a fixture. */
export interface K8sMockEntry {
  /** @default "GET" */
  method?: string;
  /** Path without query; must match exactly. */
  path: string;
  /** When set, these query parameters must match. */
  query?: Record<string, string>;
  /** @default 200 */
  status?: number;
  body?: unknown;
}

/**
 * A transport answering from fixture entries; an unmatched call fails the node and names the
 * entry to add.
 *
 * @throws {TypeError} when an entry is malformed.
 * @example
 * ```ts
 * const mock = createK8sMock([{ path: "/api/v1/nodes", body: { items: [] } }]);
 * ```
 */
export function createK8sMock(entries: unknown): K8sTransport {
  if (!Array.isArray(entries)) {
    throw new TypeError(
      `Cannot read fixture "k8s": expected a list of { method, path, status, body }`,
    );
  }
  const list = entries.map((e, i): K8sMockEntry => {
    if (typeof e !== "object" || e === null || typeof (e as K8sMockEntry).path !== "string") {
      throw new TypeError(
        `Cannot read fixture "k8s"[${i}]: expected { "path": "/api/v1/…", "body": … }`,
      );
    }
    return e as K8sMockEntry;
  });
  return (request) => {
    const [path, search] = splitQuery(request.path);
    const query = new URLSearchParams(search);
    const method = request.method.toUpperCase();
    const hit = list.find((e) =>
      (e.method ?? "GET").toUpperCase() === method && e.path === path &&
      Object.entries(e.query ?? {}).every(([k, v]) => query.get(k) === v)
    );
    if (!hit) {
      return Promise.reject(
        new Error(
          `Cannot call the Kubernetes API: no "k8s" fixture entry matches ${method} ${request.path}; ` +
            `add { "method": "${method}", "path": "${path}", "status": 200, "body": … }`,
        ),
      );
    }
    return Promise.resolve({ status: hit.status ?? 200, body: structuredClone(hit.body) });
  };
}

/**
 * Wraps a transport so a node can only make the calls its `capabilities.k8s` declares
 * (`namespace` is where `scope: namespace` rules apply). A denial is a capability failure that
 * names the rule to add.
 *
 * @throws {TypeError} when `capability` is malformed.
 */
export function guardK8sTransport(
  transport: K8sTransport,
  capability: unknown,
  namespace: string,
): K8sTransport {
  const parsed: K8sCapability | undefined = parseK8sCapability(capability);
  return (request) => {
    if (parsed === undefined) {
      return Promise.reject(
        new NodeFailure("Cannot call the Kubernetes API: the node has no capabilities.k8s", {
          kind: "capability",
          capability: "k8s: [{ resources: [<plural>], verbs: [get, list] }]",
        }),
      );
    }
    if (parsed !== "any") {
      let attrs;
      try {
        attrs = requestAttributes(request.method, request.path);
      } catch (error) {
        return Promise.reject(error);
      }
      if (!k8sAllows(parsed, attrs, namespace)) {
        const hint = ruleHint(attrs);
        return Promise.reject(
          new NodeFailure(
            `Cannot ${attrs.verb} ${attrs.resource}${
              attrs.namespace ? ` in namespace "${attrs.namespace}"` : ""
            }: ` +
              `not granted by capabilities.k8s; add ${hint}`,
            { kind: "capability", capability: hint },
          ),
        );
      }
    }
    return transport(request);
  };
}

/** What a node sees as `ctx.k8s`. */
export interface K8sApi {
  /** The workflow's namespace (where `scope: namespace` rules apply). */
  readonly namespace: string;
  /** GET a path and return the parsed JSON; a non-2xx status throws with the API's message. */
  get<T = unknown>(path: string): Promise<T>;
  /** GET a collection and return its items. */
  list<T = unknown>(
    path: string,
    selectors?: { labelSelector?: string; fieldSelector?: string },
  ): Promise<T[]>;
  /** Any call; never throws on a non-2xx status. */
  request(method: string, path: string, body?: unknown): Promise<K8sResponseInfo>;
}

/**
 * The `ctx.k8s` object over a transport.
 *
 * @example
 * ```ts
 * const k8s = createK8sApi(createK8sMock([{ path: "/api/v1/nodes", body: { items: [] } }]), "default");
 * const nodes = await k8s.list("/api/v1/nodes");
 * ```
 */
export function createK8sApi(transport: K8sTransport, namespace: string): K8sApi {
  const get = async <T>(path: string): Promise<T> => {
    const res = await transport({ method: "GET", path });
    if (res.status < 200 || res.status >= 300) {
      const message = (res.body as { message?: string } | undefined)?.message ??
        JSON.stringify(res.body);
      throw new Error(`Cannot get ${path}: ${res.status} ${message}`);
    }
    return res.body as T;
  };
  return {
    namespace,
    get,
    async list<T>(
      path: string,
      selectors: { labelSelector?: string; fieldSelector?: string } = {},
    ) {
      const query = new URLSearchParams(
        Object.entries(selectors).filter((e): e is [string, string] => e[1] !== undefined),
      ).toString();
      const body = await get<{ items?: T[] }>(query ? `${path}?${query}` : path);
      return body.items ?? [];
    },
    request: (method, path, body) =>
      transport({ method, path, ...(body !== undefined ? { body } : {}) }),
  };
}

function splitQuery(path: string): [string, string] {
  const i = path.indexOf("?");
  return i < 0 ? [path, ""] : [path.slice(0, i), path.slice(i + 1)];
}

function parseBody(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}
