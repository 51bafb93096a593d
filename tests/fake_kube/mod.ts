/**
 * A fake Kubernetes API server for tests: a TEST DOUBLE, not a cluster. It runs in-process on
 * a loopback port with real HTTP semantics for the resources Pipedreamer uses, so the real
 * `@kubernetes/client-node` (and the real CLI in a subprocess) talk to it through an ordinary
 * kubeconfig. See README.md for what it implements and what it does not.
 *
 * @module
 */

import { parse as parseYaml, stringify } from "yaml";
import { Controllers, DEFAULT_CLASS_ANNOTATION, PullFailure } from "./_controller.ts";
import { customResources, unknownCustomFields, validateCustomObject } from "./_crd.ts";
import { handle, servedCustomResources } from "./_handler.ts";
import type { DenyRule, HandlerState, RecordedRequest, ServiceBackend } from "./_state.ts";
import { LogStore } from "./_logs.ts";
import { apiVersionOf, FAKE_RESOURCES, resourceByKind } from "./_resources.ts";
import { type Obj, Store } from "./_store.ts";
import { validateObject } from "./_validate.ts";

export { PullFailure } from "./_controller.ts";
export type { DenyRule, RecordedRequest, ServiceBackend } from "./_state.ts";
export type { Obj } from "./_store.ts";
export { unknownFields } from "./_strict_fields.ts";

/** Options of {@link startFakeKube}. */
export interface FakeKubeOptions {
  /** Bearer token clients must send. @default "fake-token" */
  token?: string;
  /** User name in RBAC messages. @default "tester" */
  user?: string;
  /** Namespaces that exist at start. @default ["default", "kube-system", "kube-public"] */
  namespaces?: string[];
  /** RuntimeClasses that exist at start. @default ["gvisor"] */
  runtimeClasses?: string[];
  /** Nodes that exist at start (name → Ready). @default { "fake-node-1": true } */
  nodes?: Record<string, boolean>;
  /** StorageClasses that exist at start (name → is the default). @default { standard: true } */
  storageClasses?: Record<string, boolean>;
}

/** A running fake API server. */
export class FakeKube {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly token: string;
  readonly #server: Deno.HttpServer;
  readonly #state: HandlerState;

  constructor(server: Deno.HttpServer, url: string, state: HandlerState) {
    this.#server = server;
    this.url = url;
    this.token = state.token;
    this.#state = state;
  }

  /** Every request received so far. */
  get requests(): readonly RecordedRequest[] {
    return this.#state.requests;
  }

  /** Resolves once `count` requests matching `predicate` were received (a condition, not a delay). */
  waitForRequests(predicate: (request: RecordedRequest) => boolean, count = 1): Promise<void> {
    const met = () => this.#state.requests.filter(predicate).length >= count;
    if (met()) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#state.onRequest;
      this.#state.onRequest = () => {
        previous?.();
        if (met()) {
          this.#state.onRequest = previous;
          resolve();
        }
      };
    });
  }

  /** A kubeconfig (YAML) with one context named `context` pointing at this server. */
  kubeconfig(context = "fake", namespace?: string): string {
    return kubeconfigYaml([{ name: context, fake: this, namespace }]);
  }

  /** Reads an object straight from the store (no controller step, no RBAC). */
  get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Obj | undefined {
    return this.#state.store.get(this.#res(apiVersion, kind), namespace, name);
  }

  /** Lists objects straight from the store. */
  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Obj[] {
    return this.#state.store.list(this.#res(apiVersion, kind), namespace, labelSelector);
  }

  /** Every stored object of every resource, for "nothing left behind" assertions. */
  all(labelSelector?: string): Obj[] {
    const resources = [...FAKE_RESOURCES, ...servedCustomResources(this.#state.store)];
    return resources.filter((r) => !r.virtual).flatMap((r) =>
      this.#state.store.list(r, undefined, labelSelector).map((o) => ({
        ...o,
        apiVersion: apiVersionOf(r),
        kind: r.kind,
      }))
    );
  }

  /** Creates an object directly (as a cluster admin would), bypassing RBAC denials. */
  seed(object: Obj): Obj {
    const res = this.#res(String(object.apiVersion), String(object.kind));
    return this.#state.store.create(res, object.metadata.namespace, object, "admin");
  }

  /**
   * Installs a CustomResourceDefinition (YAML text or object), as `kubectl apply -f crd.yaml`
   * would: from then on the API server serves its group (see _crd.ts). Returns the stored CRD.
   */
  installCrd(crd: string | Obj): Obj {
    const object = typeof crd === "string" ? parseYaml(crd) as Obj : structuredClone(crd);
    const stored = this.seed(object);
    const res = this.#res("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    const names = (object.spec as { names: unknown }).names;
    this.#state.store.setStatus(res, undefined, stored.metadata.name, {
      acceptedNames: names,
      conditions: [
        { type: "NamesAccepted", status: "True", reason: "NoConflicts" },
        { type: "Established", status: "True", reason: "InitialNamesAccepted" },
      ],
    });
    return stored;
  }

  /** Deletes an object directly (as a cluster admin would). */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    this.#state.store.delete(this.#res(apiVersion, kind), namespace, name);
  }

  /** Denies matching requests with 403 (and SelfSubjectAccessReviews with allowed: false). */
  deny(rule: DenyRule): void {
    this.#state.denials.push(rule);
  }

  /** Removes every denial. */
  allowAll(): void {
    this.#state.denials.length = 0;
  }

  /** Makes pods with a matching image fail to pull it (kubelet events, ImagePullBackOff). */
  failImagePull(image: string | RegExp, failure: PullFailure = PullFailure.NotFound): void {
    this.#state.controllers.failImagePull(image, failure);
  }

  /** Stops (true) or resumes (false) every rollout, like a cluster out of capacity. */
  pauseRollouts(paused = true): void {
    this.#state.controllers.paused = paused;
  }

  /** Routes the service proxy of `namespace/name` to a URL or an in-process handler. */
  setServiceBackend(namespace: string, name: string, backend: ServiceBackend): void {
    this.#state.backends.set(`${namespace}/${name}`, backend);
  }

  /** Appends lines to a pod's container log (followers see them at once). */
  appendPodLog(namespace: string, pod: string, ...lines: string[]): void {
    this.#state.logs.append(namespace, pod, ...lines);
  }

  /** Runs the Deployment controller until the rollout of `name` settles (at most `steps`). */
  settle(namespace: string, name: string, steps = 10): void {
    for (let i = 0; i < steps; i++) this.#state.controllers.step(namespace, name);
  }

  /** Stops the server and ends open log streams. */
  async close(): Promise<void> {
    this.#state.logs.closeAll();
    await this.#server.shutdown();
  }

  /** {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #res(apiVersion: string, kind: string) {
    const res = resourceByKind(apiVersion, kind, servedCustomResources(this.#state.store));
    if (!res) {
      throw new TypeError(`Cannot address ${apiVersion} ${kind}: the fake does not serve it`);
    }
    return res;
  }
}

/**
 * Starts a fake API server on an ephemeral loopback port.
 *
 * @example
 * ```ts
 * const kube = await startFakeKube();
 * await Deno.writeTextFile(path, kube.kubeconfig());
 * // … run the CLI with KUBECONFIG=path …
 * await kube.close();
 * ```
 */
export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const store = new Store();
  store.validate = validateObject;
  const controllers = new Controllers(store);
  const state: HandlerState = {
    token: options.token ?? "fake-token",
    user: options.user ?? "tester",
    store,
    controllers,
    logs: new LogStore(),
    denials: [],
    backends: new Map(),
    requests: [],
  };
  const seed = (
    apiVersion: string,
    kind: string,
    metadata: { name: string; labels?: Record<string, string> },
    extra = {},
  ) =>
    store.create(
      resourceByKind(apiVersion, kind)!,
      undefined,
      { apiVersion, kind, metadata, ...extra } as Obj,
      "admin",
    );
  for (const ns of options.namespaces ?? ["default", "kube-system", "kube-public"]) {
    seed("v1", "Namespace", { name: ns, labels: { "kubernetes.io/metadata.name": ns } });
  }
  for (const rc of options.runtimeClasses ?? ["gvisor"]) {
    seed("node.k8s.io/v1", "RuntimeClass", { name: rc }, {
      handler: rc === "gvisor" ? "runsc" : rc,
    });
  }
  // The API server's own Service endpoints (what `kubectl get endpoints kubernetes` shows).
  store.create(resourceByKind("v1", "Endpoints")!, "default", {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "kubernetes", namespace: "default" },
    subsets: [{
      addresses: [{ ip: "192.168.49.2" }],
      ports: [{ name: "https", port: 8443, protocol: "TCP" }],
    }],
  } as Obj, "kube-apiserver");
  for (const [name, isDefault] of Object.entries(options.storageClasses ?? { standard: true })) {
    store.create(resourceByKind("storage.k8s.io/v1", "StorageClass")!, undefined, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name,
        ...(isDefault ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" } } : {}),
      },
      provisioner: "fake.csi.k8s.io",
      reclaimPolicy: "Delete",
      volumeBindingMode: "Immediate",
    } as Obj, "admin");
  }
  for (const [name, ready] of Object.entries(options.nodes ?? { "fake-node-1": true })) {
    const node = seed("v1", "Node", { name, labels: { "kubernetes.io/hostname": name } });
    store.setStatus(resourceByKind("v1", "Node")!, undefined, node.metadata.name, {
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      nodeInfo: { kubeletVersion: "v1.34.0-fake", containerRuntimeVersion: "containerd://2.0.0" },
    });
  }
  const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => resolve(addr as Deno.NetAddr) },
    (req) => handle(state, req),
  );
  const addr = await promise;
  return new FakeKube(server, `http://127.0.0.1:${addr.port}`, state);
}

/** A kubeconfig (YAML) with one context per fake cluster; the first is current. */
export function kubeconfigYaml(
  contexts: { name: string; fake: FakeKube; namespace?: string }[],
): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: contexts.map((c) => ({
      name: `${c.name}-cluster`,
      // Plain HTTP on loopback: the client requires insecure-skip-tls-verify for http servers.
      cluster: { server: c.fake.url, "insecure-skip-tls-verify": true },
    })),
    users: contexts.map((c) => ({ name: `${c.name}-user`, user: { token: c.fake.token } })),
    contexts: contexts.map((c) => ({
      name: c.name,
      context: {
        cluster: `${c.name}-cluster`,
        user: `${c.name}-user`,
        ...(c.namespace ? { namespace: c.namespace } : {}),
      },
    })),
    "current-context": contexts[0]?.name ?? "",
  });
}

/** KEDA's ScaledObject CRD as vendored in crds/ (source and version in crds/README.md). */
export function kedaScaledObjectCrd(): Promise<string> {
  return Deno.readTextFile(new URL("./crds/keda.sh_scaledobjects.yaml", import.meta.url));
}

/**
 * Checks an object against a CRD as the API server would on a write: the schema (throws the
 * 422 {@link StatusError}-like error naming each violation) and the fields it does not declare
 * (returned, as `.spec.foo`).
 */
export function customObjectIssues(crd: string | Obj, object: Record<string, unknown>): string[] {
  const definition = typeof crd === "string" ? parseYaml(crd) as Obj : crd;
  const res = customResources([definition]).find((r) =>
    apiVersionOf(r) === object.apiVersion && r.kind === object.kind
  );
  if (!res) throw new TypeError(`Cannot check ${object.apiVersion} ${object.kind}: not this CRD's`);
  const copy = structuredClone(object) as Obj;
  validateCustomObject(res, copy);
  return unknownCustomFields(res, copy, false);
}
