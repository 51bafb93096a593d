/**
 * The Kubernetes examples: cluster-health's fixtures (with `"k8s"` mocks) run against its
 * nodes through the same pieces the engine wires for `ctx.k8s` (createK8sMock →
 * guardK8sTransport with the node's declared capability → createK8sApi), and uptime-prober's
 * runtime config becomes the `<name>-config` ConfigMap.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type Context, loadWorkflow, type NodeFunction } from "../engine/mod.ts";
import {
  collectWorkflowFiles,
  createK8sApi,
  createK8sMock,
  generateManifests,
  guardK8sTransport,
} from "../k8s/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const HEALTH = join(ROOT, "examples/cluster-health");

interface Fixture {
  input?: unknown;
  config?: Record<string, unknown>;
  k8s?: unknown[];
  expected: unknown;
}

async function readFixture(path: string): Promise<Fixture> {
  return JSON.parse(await Deno.readTextFile(path)) as Fixture;
}

/** Runs one node of cluster-health the way the engine will: ctx.k8s guarded by its capability. */
async function runNode(id: string, fixture: Fixture): Promise<unknown> {
  const workflow = await loadWorkflow(HEALTH);
  const node = workflow.nodes[id]!;
  const module = await import(node.path!) as { default: NodeFunction };
  const noop = () => {};
  const ctx = {
    node: id,
    runId: "test",
    attempt: 1,
    tmpDir: "/nonexistent",
    signal: new AbortController().signal,
    config: { ...workflow.config, ...fixture.config },
    secrets: {},
    log: { debug: noop, info: noop, warn: noop, error: noop },
    route: noop,
    progress: noop,
    fetch: () => Promise.reject(new Error("no network in this test")),
    k8s: createK8sApi(
      guardK8sTransport(createK8sMock(fixture.k8s ?? []), node.capabilities.k8s, "default"),
      "default",
    ),
  } as unknown as Context;
  return await module.default(ctx, fixture.input);
}

for (const id of ["collect-nodes", "collect-pods", "summarize"]) {
  Deno.test(`examples/cluster-health fixture ${id} passes with its "k8s" mocks`, async () => {
    const fixture = await readFixture(join(HEALTH, `tests/fixtures/${id}.json`));
    assert.deepEqual(await runNode(id, fixture), fixture.expected);
  });
}

Deno.test("examples/cluster-health pipeline fixture: a NotReady node and a crash loop make it unhealthy", async () => {
  const fixture = await readFixture(join(HEALTH, "tests/pipeline/degraded.json"));
  const nodes = await runNode("collect-nodes", fixture);
  const pods = await runNode("collect-pods", fixture);
  const result = await runNode("summarize", {
    ...fixture,
    input: { "collect-nodes": nodes, "collect-pods": pods },
  });
  assert.deepEqual(result, fixture.expected);
});

Deno.test("examples/cluster-health nodes cannot read what they did not declare", async () => {
  const workflow = await loadWorkflow(HEALTH);
  const guarded = guardK8sTransport(
    createK8sMock([]),
    workflow.nodes["collect-nodes"]!.capabilities.k8s,
    "default",
  );
  await assert.rejects(
    guarded({ method: "GET", path: "/api/v1/secrets" }),
    /Cannot list secrets: not granted by capabilities\.k8s/,
  );
});

Deno.test("examples/cluster-health deploys with a ClusterRole made of its nodes' k8s capabilities", async () => {
  const workflow = await loadWorkflow(HEALTH);
  const objects = generateManifests(workflow, {
    namespace: "ops",
    image: "ghcr.io/acme/cluster-health:1.0.0",
    files: await collectWorkflowFiles(workflow),
    token: "t",
    apiServerEndpoints: [{ ip: "172.18.0.2", port: 6443 }],
  });
  // Its egress to the API server goes to the API server's endpoints only.
  const policy = objects.find((o) => o.kind === "NetworkPolicy") as unknown as {
    spec: { egress: unknown[] };
  };
  // (The last rule lets the live engine reach a canary's pods.)
  assert.deepEqual(policy.spec.egress.slice(1, -1), [
    { to: [{ ipBlock: { cidr: "172.18.0.2/32" } }], ports: [{ protocol: "TCP", port: 6443 }] },
  ]);
  assert.match(
    JSON.stringify(policy.spec.egress.at(-1)),
    /"app.kubernetes.io\/component":"canary"/,
  );
  assert.throws(
    () =>
      generateManifests(workflow, {
        namespace: "ops",
        image: "ghcr.io/acme/cluster-health:1.0.0",
        files: [],
        token: "t",
      }),
    /a node declares capabilities\.k8s, so the API server's endpoints are needed; pass --api-server <ip:port>/,
  );
  const role = objects.find((o) => o.kind === "ClusterRole") as unknown as { rules: unknown[] };
  assert.deepEqual(role.rules, [
    { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
  ]);
  const spec = (objects.find((o) => o.kind === "Deployment") as unknown as {
    spec: {
      template: { spec: { serviceAccountName: string; automountServiceAccountToken: boolean } };
    };
  }).spec.template.spec;
  assert.deepEqual([spec.serviceAccountName, spec.automountServiceAccountToken], [
    "cluster-health",
    true,
  ]);
});

Deno.test("examples/uptime-prober: runtime-config.yaml becomes config.yaml of the uptime-prober-config ConfigMap", async () => {
  const dir = join(ROOT, "examples/uptime-prober");
  const workflow = await loadWorkflow(dir);
  const text = await Deno.readTextFile(join(dir, "runtime-config.yaml"));
  const objects = generateManifests(workflow, {
    namespace: "default",
    image: "ghcr.io/acme/uptime-prober:1.0.0",
    files: await collectWorkflowFiles(workflow),
    token: "t",
    runtimeConfig: text,
  });
  const cm = objects.find((o) => o.metadata.name === "uptime-prober-config") as unknown as {
    data: Record<string, string>;
  };
  assert.deepEqual(cm.data, { "config.yaml": text });
  const mounts = (objects.find((o) => o.kind === "Deployment") as unknown as {
    spec: {
      template: { spec: { containers: { volumeMounts: { name: string; mountPath: string }[] }[] } };
    };
  }).spec.template.spec.containers[0]!.volumeMounts;
  assert.ok(mounts.some((m) => m.name === "config" && m.mountPath === "/app/config"));
});
