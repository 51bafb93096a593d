import assert from "node:assert/strict";
import { kubeconfigYaml, startFakeKube } from "../tests/fake_kube/mod.ts";
import { apiError, KubeApiError, kubeContexts, loadKubeClient } from "./kube_client.ts";

Deno.test("loadKubeClient() picks the context, its namespace, and names the known contexts for an unknown one", async () => {
  const a = await startFakeKube();
  const b = await startFakeKube();
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config`;
    await Deno.writeTextFile(
      path,
      kubeconfigYaml([{ name: "one", fake: a }, { name: "two", fake: b, namespace: "team" }]),
    );
    assert.deepEqual(kubeContexts(path), ["one", "two"]);
    const first = loadKubeClient({ kubeconfig: path });
    assert.deepEqual([first.context, first.server, first.defaultNamespace], [
      "one",
      a.url,
      "default",
    ]);
    const second = loadKubeClient({ kubeconfig: path, context: "two" });
    assert.deepEqual([second.context, second.server, second.defaultNamespace], [
      "two",
      b.url,
      "team",
    ]);
    assert.throws(
      () => loadKubeClient({ kubeconfig: path, context: "three" }),
      /Cannot use context "three": it is not in the kubeconfig \(known: "one", "two"\)/,
    );
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KubeClient reports an unreachable API server as a retryable KubeApiError", async () => {
  const kube = await startFakeKube();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config`, kube.kubeconfig());
    const client = loadKubeClient({ kubeconfig: `${dir}/config` });
    await kube.close();
    const error = await client.get("/api/v1/namespaces/default").catch((e) => e);
    assert.ok(error instanceof KubeApiError);
    assert.deepEqual([error.status, error.retryable], [0, true]);
    assert.match(
      error.message,
      /^Cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(context "fake"\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [status, body, expected, retryable] of [
    [
      404,
      { kind: "Status", reason: "NotFound", message: 'configmaps "x" not found' },
      /^Cannot get configmaps "x" in namespace "ns": configmaps "x" not found$/,
      false,
    ],
    [
      403,
      { kind: "Status", reason: "Forbidden", message: "nope" },
      /nope; ask a cluster admin for this permission \(see `pipedreamer cluster check`\)$/,
      false,
    ],
    [
      401,
      { kind: "Status", reason: "Unauthorized", message: "Unauthorized" },
      /your credentials were rejected/,
      false,
    ],
    [503, "upstream down", /: upstream down$/, true],
  ] as const
) {
  Deno.test(`apiError() turns a ${status} into a clear KubeApiError`, () => {
    const error = apiError(
      "GET",
      "/api/v1/namespaces/ns/configmaps/x",
      status,
      typeof body === "string" ? body : JSON.stringify(body),
    );
    assert.match(error.message, expected);
    assert.equal(error.status, status);
    assert.equal(error.retryable, retryable);
  });
}
