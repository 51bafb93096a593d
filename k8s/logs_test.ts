import assert from "node:assert/strict";
import { startFakeKube } from "../tests/fake_kube/mod.ts";
import { loadKubeClient } from "./kube_client.ts";
import { streamLogs } from "./logs.ts";

const labels = {
  "app.kubernetes.io/instance": "w",
  "app.kubernetes.io/component": "engine",
  "app.kubernetes.io/managed-by": "pipedreamer",
};

async function withPods(
  fn: (
    kube: Awaited<ReturnType<typeof startFakeKube>>,
    client: ReturnType<typeof loadKubeClient>,
    pods: string[],
  ) => Promise<void>,
) {
  const kube = await startFakeKube();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config`, kube.kubeconfig());
    const client = loadKubeClient({ kubeconfig: `${dir}/config` });
    await client.apply({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "w", namespace: "default", labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "engine", image: "e:1" }] },
        },
      },
    });
    kube.settle("default", "w");
    const pods = kube.list("v1", "Pod", "default").map((p) => p.metadata.name).sort();
    await fn(kube, client, pods);
  } finally {
    await kube.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("streamLogs() prints every pod's log, prefixed, honouring tailLines", async () => {
  await withPods(async (kube, client, pods) => {
    for (const p of pods) kube.appendPodLog("default", p, `a ${p}`, `b ${p}`);
    const lines: string[] = [];
    const seen = await streamLogs(client, "w", "default", {
      tailLines: 1,
      onLine: (pod, line) => lines.push(`${pod}|${line}`),
    });
    assert.deepEqual(seen, pods);
    assert.deepEqual(lines, pods.map((p) => `${p}|b ${p}`));
  });
});

Deno.test("streamLogs() follows every pod at once until aborted", async () => {
  await withPods(async (kube, client, pods) => {
    const controller = new AbortController();
    const lines: string[] = [];
    const { promise: got, resolve } = Promise.withResolvers<void>();
    const done = streamLogs(client, "w", "default", {
      follow: true,
      signal: controller.signal,
      onLine: (pod, line) => {
        lines.push(`${pod}|${line}`);
        if (lines.length === 2) resolve();
      },
    });
    // Lines appended after both streams opened arrive through follow.
    await kube.waitForRequests((r) => r.path.endsWith("/log"), 2);
    kube.appendPodLog("default", pods[0]!, "late one");
    kube.appendPodLog("default", pods[1]!, "late two");
    await got;
    controller.abort();
    await done;
    assert.deepEqual(lines.sort(), [`${pods[0]}|late one`, `${pods[1]}|late two`]);
  });
});

Deno.test("streamLogs() fails clearly when the workflow has no pods", async () => {
  await withPods(async (_kube, client) => {
    await assert.rejects(
      streamLogs(client, "other", "default", { onLine: () => {} }),
      /Cannot show logs of "other": it has no pods in namespace "default"; see `pipedreamer status other`/,
    );
  });
});
