import assert from "node:assert/strict";
import { NodeFailure } from "../engine/mod.ts";
import { startFakeKube } from "../tests/fake_kube/mod.ts";
import { loadKubeClient } from "./kube_client.ts";
import { createK8sApi, createK8sMock, createK8sTransport, guardK8sTransport } from "./node_k8s.ts";

const NODES = { kind: "NodeList", items: [{ metadata: { name: "n1" } }] };

Deno.test("createK8sMock() answers matching fixture entries and names the entry to add otherwise", async () => {
  const mock = createK8sMock([
    { path: "/api/v1/nodes", body: NODES },
    { method: "GET", path: "/api/v1/pods", query: { labelSelector: "app=x" }, body: { items: [] } },
    {
      method: "DELETE",
      path: "/api/v1/namespaces/a/pods/p",
      status: 403,
      body: { message: "forbidden" },
    },
  ]);
  assert.deepEqual(await mock({ method: "GET", path: "/api/v1/nodes" }), {
    status: 200,
    body: NODES,
  });
  assert.deepEqual(await mock({ method: "get", path: "/api/v1/pods?labelSelector=app%3Dx" }), {
    status: 200,
    body: { items: [] },
  });
  assert.equal((await mock({ method: "DELETE", path: "/api/v1/namespaces/a/pods/p" })).status, 403);
  await assert.rejects(
    mock({ method: "GET", path: "/api/v1/pods?labelSelector=app%3Dy" }),
    /no "k8s" fixture entry matches GET \/api\/v1\/pods\?labelSelector=app%3Dy; add \{ "method": "GET", "path": "\/api\/v1\/pods"/,
  );
  assert.throws(() => createK8sMock({}), /expected a list/);
  assert.throws(() => createK8sMock([{ body: 1 }]), /"k8s"\[0\]/);
});

Deno.test("guardK8sTransport() lets declared calls through and fails others with the capability to add", async () => {
  const mock = createK8sMock([{ path: "/api/v1/nodes", body: NODES }, {
    path: "/api/v1/namespaces/other/pods",
    body: {},
  }]);
  const guarded = guardK8sTransport(mock, [{ resources: ["nodes"], verbs: ["list"] }, {
    resources: ["pods"],
    verbs: ["list"],
    scope: "namespace",
  }], "own");
  assert.equal((await guarded({ method: "GET", path: "/api/v1/nodes" })).status, 200);
  const denied = await guarded({ method: "GET", path: "/api/v1/namespaces/other/pods" }).catch((
    e,
  ) => e);
  assert.ok(denied instanceof NodeFailure);
  assert.equal(denied.kind, "capability");
  assert.equal(denied.nonRetryable, true);
  assert.equal(denied.capability, "k8s: [{ resources: [pods], verbs: [list], scope: namespace }]");
  assert.match(
    denied.message,
    /^Cannot list pods in namespace "other": not granted by capabilities\.k8s; add k8s: /,
  );
  const none = await guardK8sTransport(mock, undefined, "own")({
    method: "GET",
    path: "/api/v1/nodes",
  }).catch((e) => e);
  assert.ok(none instanceof NodeFailure);
  assert.match(none.message, /the node has no capabilities\.k8s/);
  assert.equal(
    (await guardK8sTransport(mock, true, "own")({ method: "GET", path: "/api/v1/nodes" })).status,
    200,
  );
});

Deno.test("createK8sApi() gets, lists with selectors and reports API errors", async () => {
  const api = createK8sApi(
    createK8sMock([
      { path: "/api/v1/nodes", body: NODES },
      {
        path: "/api/v1/pods",
        query: { labelSelector: "app=x" },
        body: { items: [{ metadata: { name: "p" } }] },
      },
      {
        path: "/api/v1/nodes/gone",
        status: 404,
        body: { kind: "Status", message: 'nodes "gone" not found' },
      },
    ]),
    "apps",
  );
  assert.equal(api.namespace, "apps");
  assert.deepEqual(await api.list("/api/v1/nodes"), NODES.items);
  assert.deepEqual(await api.list("/api/v1/pods", { labelSelector: "app=x" }), [{
    metadata: { name: "p" },
  }]);
  await assert.rejects(
    api.get("/api/v1/nodes/gone"),
    /Cannot get \/api\/v1\/nodes\/gone: 404 nodes "gone" not found/,
  );
  assert.equal((await api.request("GET", "/api/v1/nodes/gone")).status, 404);
});

Deno.test("createK8sTransport() calls the real API with the kubeconfig's credentials", async () => {
  const kube = await startFakeKube({ nodes: { a: true, b: false } });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config`, kube.kubeconfig());
    const api = createK8sApi(
      createK8sTransport({ client: loadKubeClient({ kubeconfig: `${dir}/config` }) }),
      "default",
    );
    const nodes = await api.list<{ metadata: { name: string } }>("/api/v1/nodes");
    assert.deepEqual(nodes.map((n) => n.metadata.name), ["a", "b"]);
    assert.equal(
      (await api.request("GET", "/api/v1/namespaces/default/configmaps/none")).status,
      404,
    );
  } finally {
    await kube.close();
    await Deno.remove(dir, { recursive: true });
  }
});
