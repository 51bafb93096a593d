/**
 * The fake API server behaves like the real one for what it implements, checked through the
 * real client (`@kubernetes/client-node` via k8s/kube_client.ts).
 */

import assert from "node:assert/strict";
import { KubeApiError, type KubeClient, loadKubeClient } from "../../k8s/mod.ts";
import { type FakeKube, PullFailure, startFakeKube } from "./mod.ts";

const CM = "/api/v1/namespaces/default/configmaps";
const DEP = "/apis/apps/v1/namespaces/default/deployments";

async function withFake(
  fn: (kube: FakeKube, client: KubeClient) => Promise<void>,
  options = {},
): Promise<void> {
  const kube = await startFakeKube(options);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config`, kube.kubeconfig());
    await fn(kube, loadKubeClient({ kubeconfig: `${dir}/config` }));
  } finally {
    await kube.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const configMap = (data: Record<string, string>, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", namespace: "default", labels },
  data,
});

function deployment(image: string, replicas = 1) {
  const labels = { app: "d" };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "main", image }, { name: "side", image: "busybox" }] },
      },
    },
  };
}

async function statusOf(promise: Promise<unknown>): Promise<[number, string]> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof KubeApiError, `expected a KubeApiError, got ${error}`);
  return [error.status, error.reason];
}

Deno.test("fake server-side apply removes fields a manager stopped applying and keeps others' fields", async () => {
  await withFake(async (_kube, client) => {
    await client.apply(configMap({ a: "1", b: "2" }), { fieldManager: "one" });
    await client.json("PATCH", `${CM}/c`, {
      body: { data: { other: "x" } },
      contentType: "application/merge-patch+json",
      query: { fieldManager: "editor" },
    });
    const after = await client.apply(configMap({ a: "1" }), { fieldManager: "one" }) as unknown as {
      data: Record<string, string>;
    };
    assert.deepEqual(after.data, { a: "1", other: "x" });
  });
});

Deno.test("fake server-side apply removes a keyed list item a manager stopped applying, whole", async () => {
  await withFake(async (_kube, client) => {
    const withMounts = (mounts: Record<string, unknown>[]) => {
      const d = deployment("app:1");
      (d.spec.template.spec.containers[0] as Record<string, unknown>).volumeMounts = mounts;
      return d as unknown as Parameters<KubeClient["apply"]>[0];
    };
    const a = { name: "a", mountPath: "/a", readOnly: true };
    const b = { name: "b", mountPath: "/b", readOnly: true };
    await client.apply(withMounts([a, b]), { fieldManager: "one" });
    const after = await client.apply(withMounts([b]), { fieldManager: "one" }) as unknown as {
      spec: { template: { spec: { containers: { volumeMounts: unknown[] }[] } } };
    };
    // Not a leftover `{ readOnly: true }`: the item goes with its key.
    assert.deepEqual(after.spec.template.spec.containers[0]!.volumeMounts, [b]);
  });
});

Deno.test("fake server-side apply leaves spec.replicas to the manager that changed it", async () => {
  await withFake(async (_kube, client) => {
    await client.apply(deployment("app:1", 2) as never, { fieldManager: "deployer" });
    await client.apply(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d", namespace: "default" },
        spec: { replicas: 2 },
      } as never,
      { fieldManager: "deployer-replicas", force: false },
    );
    await client.json("PATCH", `${DEP}/d`, {
      body: { spec: { replicas: 5 } },
      contentType: "application/merge-patch+json",
      query: { fieldManager: "kubectl" },
    });
    const noReplicas = deployment("app:2");
    delete (noReplicas.spec as { replicas?: number }).replicas;
    const after = await client.apply(noReplicas as never, {
      fieldManager: "deployer",
    }) as unknown as {
      spec: { replicas: number };
    };
    assert.equal(after.spec.replicas, 5, "an apply that omits replicas must not reset them");
    const [status] = await statusOf(
      client.apply(
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "d", namespace: "default" },
          spec: { replicas: 2 },
        } as never,
        { fieldManager: "deployer-replicas", force: false },
      ),
    );
    assert.equal(status, 409);
  });
});

Deno.test("fake server-side apply conflicts with another manager's field unless forced", async () => {
  await withFake(async (_kube, client) => {
    await client.apply(configMap({ a: "1" }), { fieldManager: "one" });
    const error = await client.apply(configMap({ a: "2" }), { fieldManager: "two", force: false })
      .catch((e) => e);
    assert.ok(error instanceof KubeApiError);
    assert.deepEqual([error.status, error.reason], [409, "Conflict"]);
    assert.match(error.message, /conflict with "one": \.data\.a/);
    const forced = await client.apply(configMap({ a: "2" }), {
      fieldManager: "two",
      force: true,
    }) as unknown as {
      data: Record<string, string>;
      metadata: { managedFields: { manager: string }[] };
    };
    assert.equal(forced.data.a, "2");
    assert.deepEqual(forced.metadata.managedFields.map((m) => m.manager), ["one", "two"]);
  });
});

Deno.test("fake update with a stale resourceVersion is a 409 Conflict; resourceVersion grows", async () => {
  await withFake(async (_kube, client) => {
    const created = await client.json<{ metadata: { resourceVersion: string } }>("POST", CM, {
      body: configMap({ a: "1" }),
    });
    const rv = Number(created.metadata.resourceVersion);
    const body = {
      ...configMap({ a: "2" }),
      metadata: { name: "c", namespace: "default", resourceVersion: String(rv) },
    };
    const updated = await client.json<{ metadata: { resourceVersion: string } }>("PUT", `${CM}/c`, {
      body,
    });
    assert.ok(Number(updated.metadata.resourceVersion) > rv);
    assert.deepEqual(await statusOf(client.json("PUT", `${CM}/c`, { body })), [409, "Conflict"]);
    assert.deepEqual(await statusOf(client.json("POST", CM, { body: configMap({}) })), [
      409,
      "AlreadyExists",
    ]);
    assert.deepEqual(await statusOf(client.json("GET", `${CM}/missing`)), [404, "NotFound"]);
    assert.equal(await client.get(`${CM}/missing`), undefined);
  });
});

for (
  const [selector, expected] of [
    ["tier=web", ["a"]],
    ["tier==web", ["a"]],
    ["tier!=web", ["b", "c"]],
    ["tier in (web,db)", ["a", "b"]],
    ["tier notin (web)", ["b", "c"]],
    ["tier", ["a", "b"]],
    ["!tier", ["c"]],
    ["tier=db,zone=eu", ["b"]],
  ] as const
) {
  Deno.test(`fake list filters by label selector "${selector}"`, async () => {
    await withFake(async (_kube, client) => {
      for (
        const [name, labels] of [["a", { tier: "web" }], ["b", { tier: "db", zone: "eu" }], [
          "c",
          {},
        ]] as const
      ) {
        await client.apply({
          ...configMap({}, labels),
          metadata: { name, namespace: "default", labels },
        });
      }
      const items = await client.list(CM, { labelSelector: selector });
      assert.deepEqual(items.map((i) => i.metadata.name), expected);
      assert.ok(
        items.every((i) => i.kind === undefined),
        "list items carry no kind, as in the real API",
      );
    });
  });
}

Deno.test("fake rejects invalid writes with the API server's 400 and 422 Status", async () => {
  await withFake(async (_kube, client) => {
    await client.apply({ ...configMap({ a: "1" }), immutable: true });
    const immutable = await client.apply({ ...configMap({ a: "2" }), immutable: true }).catch((e) =>
      e
    );
    assert.deepEqual([immutable.status, immutable.reason], [422, "Invalid"]);
    assert.match(immutable.message, /data: Forbidden: field is immutable when `immutable` is set/);
    const unknown = await client.apply({
      ...configMap({}),
      metadata: { name: "u", namespace: "default" },
      datum: {},
    }).catch((e) => e);
    assert.equal(unknown.status, 400);
    assert.match(unknown.message, /\.datum: field not declared in schema/);
    const badName = await client.apply({
      ...configMap({}),
      metadata: { name: "Bad_Name", namespace: "default" },
    }).catch((e) => e);
    assert.equal(badName.status, 422);
    const noNs = await client.apply({
      ...configMap({}),
      metadata: { name: "x", namespace: "nope" },
    }).catch((e) => e);
    assert.deepEqual([noNs.status, noNs.message.includes('namespaces "nope" not found')], [
      404,
      true,
    ]);
    await client.apply(deployment("app:1"));
    const selector = deployment("app:1");
    selector.spec.selector.matchLabels = { app: "other" };
    selector.spec.template.metadata.labels = { app: "other" };
    const changed = await client.apply(selector).catch((e) => e);
    assert.equal(changed.status, 422);
    assert.match(changed.message, /spec\.selector: Invalid value: field is immutable/);
  });
});

Deno.test("fake strategic merge patch merges containers by name; merge patch replaces the list", async () => {
  await withFake(async (_kube, client) => {
    await client.apply(deployment("app:1"));
    type D = { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
    const smp = await client.json<D>("PATCH", `${DEP}/d`, {
      body: { spec: { template: { spec: { containers: [{ name: "main", image: "app:2" }] } } } },
      contentType: "application/strategic-merge-patch+json",
    });
    assert.deepEqual(smp.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`), [
      "main=app:2",
      "side=busybox",
    ]);
    const merge = await client.json<D>("PATCH", `${DEP}/d`, {
      body: { spec: { template: { spec: { containers: [{ name: "main", image: "app:3" }] } } } },
      contentType: "application/merge-patch+json",
    });
    assert.deepEqual(merge.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`), [
      "main=app:3",
    ]);
  });
});

Deno.test("fake Deployment controller rolls out step by step and garbage-collects on delete", async () => {
  await withFake(async (kube, client) => {
    await client.apply(deployment("app:1", 2));
    type S = { metadata: { generation: number }; status?: Record<string, number> };
    const first = await client.json<S>("GET", `${DEP}/d`);
    assert.deepEqual([
      first.status?.observedGeneration,
      first.status?.updatedReplicas,
      first.status?.readyReplicas,
    ], [1, 2, 0]);
    const second = await client.json<S>("GET", `${DEP}/d`);
    assert.equal(second.status?.readyReplicas, 2);
    assert.equal(kube.list("v1", "Pod", "default").length, 2);
    await client.apply(deployment("app:2", 2));
    const third = await client.json<S>("GET", `${DEP}/d`);
    assert.equal(third.metadata.generation, 2);
    assert.equal(third.status?.observedGeneration, 2);
    kube.settle("default", "d");
    assert.deepEqual(
      kube.list("v1", "Pod", "default").map((p) =>
        (p.spec as { containers: { image: string }[] }).containers[0]!.image
      ),
      ["app:2", "app:2"],
    );
    await client.delete(`${DEP}/d`);
    assert.deepEqual([
      kube.list("apps/v1", "ReplicaSet", "default").length,
      kube.list("v1", "Pod", "default").length,
    ], [0, 0]);
  });
});

Deno.test("fake image pull failures leave pods waiting with the kubelet's events", async () => {
  await withFake(async (kube, client) => {
    kube.failImagePull(/^missing\//, PullFailure.Unauthorized);
    await client.apply(deployment("missing/app:1"));
    kube.settle("default", "d");
    const pod = kube.list("v1", "Pod", "default")[0]!;
    const waiting =
      (pod.status as { containerStatuses: { state: { waiting?: { reason: string } } }[] })
        .containerStatuses[0]!.state.waiting;
    assert.equal(waiting?.reason, "ImagePullBackOff");
    const events = await client.list<{ reason: string; message: string }>(
      "/api/v1/namespaces/default/events",
      {
        fieldSelector: `involvedObject.name=${pod.metadata.name}`,
      },
    );
    assert.ok(events.some((e) => e.reason === "Failed" && /401 Unauthorized/.test(e.message)));
    const log = await client.request(
      "GET",
      `/api/v1/namespaces/default/pods/${pod.metadata.name}/log`,
      { query: { container: "main" } },
    );
    assert.equal(log.status, 400);
    assert.match(await log.text(), /is waiting to start: ImagePullBackOff/);
  });
});

Deno.test("fake service proxy needs a ready endpoint, drops the caller's credentials and forwards the body", async () => {
  await withFake(async (kube, client) => {
    const proxy = "/api/v1/namespaces/default/services/d:http/proxy/echo?x=1";
    assert.equal((await client.request("POST", proxy, { body: "{}" })).status, 404);
    await client.apply({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "d", namespace: "default" },
      spec: { selector: { app: "d" }, ports: [{ name: "http", port: 80 }] },
    });
    const none = await client.request("POST", proxy, { body: "{}" });
    assert.equal(none.status, 503);
    assert.match(await none.text(), /no endpoints available for service/);
    await client.apply(deployment("app:1"));
    kube.settle("default", "d");
    const seen: { auth: string | null; body: string; path: string }[] = [];
    kube.setServiceBackend("default", "d", async (req) => {
      const url = new URL(req.url);
      seen.push({
        auth: req.headers.get("authorization"),
        body: await req.text(),
        path: url.pathname + url.search,
      });
      return Response.json({ ok: true }, { status: 201 });
    });
    const res = await client.request("POST", proxy, {
      body: '{"a":1}',
      headers: { "X-Extra": "kept" },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(seen, [{ auth: null, body: '{"a":1}', path: "/echo?x=1" }]);
  });
});

Deno.test("fake cluster network: <service>.<namespace>.svc reaches the Service's backend, pod to pod", async () => {
  await withFake(async (kube, client) => {
    // What an engine process gets as HTTP_PROXY (tests/fake_kube/deployed_engine.ts).
    const http = Deno.createHttpClient({ proxy: { url: kube.networkProxy() } });
    try {
      const get = async (url: string) => {
        const res = await fetch(url, { client: http, headers: { authorization: "Bearer t" } });
        return { status: res.status, text: await res.text() };
      };
      assert.match((await get("http://d.default.svc/x")).text, /no Service "default\/d"/);
      await client.apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "d", namespace: "default" },
        spec: { selector: { app: "d" }, ports: [{ name: "http", port: 80 }] },
      });
      assert.match((await get("http://d.default.svc/x")).text, /no ready endpoint/);
      await client.apply(deployment("app:1"));
      kube.settle("default", "d");
      const seen: string[] = [];
      kube.setServiceBackend("default", "d", (req) => {
        seen.push(`${new URL(req.url).pathname} ${req.headers.get("authorization")}`);
        return new Response("hi");
      });
      assert.deepEqual(await get("http://d.default.svc.cluster.local/x?y=1"), {
        status: 200,
        text: "hi",
      });
      assert.deepEqual(seen, ["/x Bearer t"], "pod-to-pod traffic keeps its headers");
      const wrongPort = await get("http://d.default.svc:8080/x");
      assert.equal(wrongPort.status, 502);
      assert.match(wrongPort.text, /has no port 8080/);
      assert.match((await get("http://example.com/x")).text, /cannot resolve example\.com/);
    } finally {
      http.close();
    }
  });
});

Deno.test("fake SelfSubjectAccessReview and requests follow the configured denials", async () => {
  await withFake(async (kube, client) => {
    kube.deny({ verb: "create", resource: "services/proxy", namespace: "default" });
    const review = (verb: string, resource: string, subresource?: string) =>
      client.json<{ status: { allowed: boolean } }>(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {
          body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: { resourceAttributes: { verb, resource, subresource, namespace: "default" } },
          },
        },
      );
    assert.equal((await review("create", "services", "proxy")).status.allowed, false);
    assert.equal((await review("get", "services")).status.allowed, true);
    const denied = await client.request(
      "POST",
      "/api/v1/namespaces/default/services/x:http/proxy/run",
      { body: "{}" },
    );
    assert.equal(denied.status, 403);
  });
});

Deno.test("fake pod logs honour tailLines and follow until the pod is deleted", async () => {
  await withFake(async (kube, client) => {
    await client.apply(deployment("app:1"));
    kube.settle("default", "d");
    const pod = kube.list("v1", "Pod", "default")[0]!.metadata.name;
    kube.appendPodLog("default", pod, "one", "two", "three");
    const path = `/api/v1/namespaces/default/pods/${pod}/log`;
    const tail = await client.request("GET", path, { query: { container: "main", tailLines: 2 } });
    assert.equal(await tail.text(), "two\nthree\n");
    const follow = await client.request("GET", path, {
      query: { container: "main", follow: "true", tailLines: 1 },
      streaming: true,
    });
    const reader = follow.stream()!.pipeThrough(
      new TextDecoderStream() as TransformStream<Uint8Array, string>,
    ).getReader();
    assert.equal((await reader.read()).value, "three\n");
    kube.appendPodLog("default", pod, "four");
    assert.equal((await reader.read()).value, "four\n");
    await client.delete(`/api/v1/namespaces/default/pods/${pod}`);
    assert.equal((await reader.read()).done, true);
  });
});

Deno.test("fake answers discovery and rejects a wrong token with 401", async () => {
  await withFake(async (kube, client) => {
    const v1 = await client.json<{ resources: { name: string; namespaced: boolean }[] }>(
      "GET",
      "/api/v1",
    );
    assert.ok(v1.resources.some((r) => r.name === "configmaps" && r.namespaced));
    const groups = await client.json<{ groups: { name: string }[] }>("GET", "/apis");
    assert.ok(groups.groups.some((g) => g.name === "apps"));
    const res = await fetch(`${kube.url}/api/v1/namespaces`, {
      headers: { authorization: "Bearer wrong" },
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).reason, "Unauthorized");
  });
});
