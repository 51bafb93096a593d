import assert from "node:assert/strict";
import { join } from "node:path";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { PersistentVolumeClaim } from "kubernetes-models/v1";
import { loadWorkflow } from "../engine/mod.ts";
import { unknownFields } from "../tests/fake_kube/mod.ts";
import { generateManifests, type KubeObject } from "./generate_manifests.ts";
import { collectWorkflowFiles } from "./workflow_files.ts";

// deno-lint-ignore no-explicit-any
type Any = Record<string, any>;

/** Manifests of testdata/minimal with `deployment:` replaced by `deployment`. */
async function withDeployment(deployment: string): Promise<KubeObject[]> {
  const tmp = await Deno.makeTempDir({ prefix: "pd-durable-manifests-" });
  try {
    const from = new URL("./testdata/minimal/", import.meta.url).pathname;
    await Deno.mkdir(join(tmp, "nodes"));
    await Deno.copyFile(join(from, "nodes/only.ts"), join(tmp, "nodes/only.ts"));
    const yaml = await Deno.readTextFile(join(from, "workflow.yaml"));
    await Deno.writeTextFile(join(tmp, "workflow.yaml"), `${yaml}\ndeployment:\n${deployment}`);
    const workflow = await loadWorkflow(tmp);
    return generateManifests(workflow, {
      namespace: "apps",
      image: "ghcr.io/acme/engine:1.0.0",
      files: await collectWorkflowFiles(workflow),
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const find = (objects: KubeObject[], kind: string) =>
  objects.find((o) => o.kind === kind) as Any | undefined;

function validate(objects: KubeObject[]): void {
  const models: Record<string, new (data: never) => { validate(): void }> = {
    Deployment,
    PersistentVolumeClaim,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
  };
  for (const o of objects) {
    const Model = models[o.kind];
    if (Model) new Model(o as never).validate();
    assert.deepEqual(unknownFields(o), [], `${o.kind} has unknown fields`);
  }
}

Deno.test("default store: SQLite on a ReadWriteOnce PVC, one replica, Recreate, no PDB", async () => {
  const objects = await withDeployment("  storage: { size: 5Gi, storageClass: fast }\n");
  validate(objects);
  const claim = find(objects, "PersistentVolumeClaim")!;
  assert.equal(claim.metadata.name, "minimal-data");
  assert.deepEqual(claim.spec, {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "5Gi" } },
    storageClassName: "fast",
  });
  const dep = find(objects, "Deployment")!;
  assert.equal(dep.spec.replicas, 1);
  assert.deepEqual(dep.spec.strategy, { type: "Recreate" });
  const pod = dep.spec.template.spec;
  assert.deepEqual(pod.volumes.find((v: Any) => v.name === "data"), {
    name: "data",
    persistentVolumeClaim: { claimName: "minimal-data" },
  });
  const args: string[] = pod.containers[0].args;
  assert.equal(args[args.indexOf("--data") + 1], "/var/lib/pipedreamer");
  assert.ok(!args.includes("--store-file"));
  assert.equal(find(objects, "PodDisruptionBudget"), undefined);
  assert.equal(find(objects, "HorizontalPodAutoscaler"), undefined);
  // No token Secret in the manifests unless one is pinned: deploy creates it once.
  assert.equal(objects.some((o) => o.kind === "Secret"), false);
});

Deno.test("deployment.store: PostgreSQL URL from a Secret file, several replicas rolling, a PDB", async () => {
  const objects = await withDeployment(
    "  replicas: 3\n  store: { secret: pg, key: dsn }\n  grace: 45s\n",
  );
  validate(objects);
  assert.equal(find(objects, "PersistentVolumeClaim"), undefined);
  const dep = find(objects, "Deployment")!;
  assert.equal(dep.spec.replicas, 3);
  assert.equal(dep.spec.strategy.type, "RollingUpdate");
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  assert.deepEqual(pod.volumes.find((v: Any) => v.name === "store"), {
    name: "store",
    secret: { secretName: "pg", items: [{ key: "dsn", path: "url" }], defaultMode: 0o440 },
  });
  assert.ok(c.volumeMounts.some((m: Any) => m.mountPath === "/app/store" && m.readOnly));
  const args: string[] = c.args;
  assert.equal(args[args.indexOf("--store-file") + 1], "/app/store/url");
  assert.equal(args[args.indexOf("--grace") + 1], "45s");
  // The URL is a file, never an environment variable.
  assert.ok(!JSON.stringify(c.env).includes("pg"));
  // preStop, then the drain grace, then a margin: the kubelet's SIGKILL comes after the drain.
  assert.deepEqual(c.lifecycle, { preStop: { sleep: { seconds: 5 } } });
  assert.ok(pod.terminationGracePeriodSeconds > 5 + 45);
  assert.equal(c.readinessProbe.httpGet.path, "/ready");
  assert.equal(c.livenessProbe.httpGet.path, "/live");
  const pdb = find(objects, "PodDisruptionBudget")!;
  assert.deepEqual(pdb.spec, {
    maxUnavailable: 1,
    selector: { matchLabels: dep.spec.selector.matchLabels },
  });
});

Deno.test("deployment.autoscale: a CPU HorizontalPodAutoscaler from min to max, and a PDB", async () => {
  const objects = await withDeployment(
    "  store: { secret: pg }\n  autoscale: { min: 2, max: 8, cpu: 60 }\n",
  );
  validate(objects);
  const hpa = find(objects, "HorizontalPodAutoscaler")!;
  assert.deepEqual(hpa.spec, {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "minimal" },
    minReplicas: 2,
    maxReplicas: 8,
    metrics: [{
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
    }],
  });
  // The HPA owns replicas: none in the Deployment, so no apply or GitOps sync fights it.
  assert.equal(find(objects, "Deployment")!.spec.replicas, undefined);
  assert.ok(find(objects, "PodDisruptionBudget"));
  const store = find(objects, "Deployment")!.spec.template.spec.volumes.find((v: Any) =>
    v.name === "store"
  );
  assert.equal(store.secret.items[0].key, "url", "key defaults to url");
});

for (
  const [label, deployment, message] of [
    [
      "several replicas on SQLite",
      "  replicas: 2\n",
      /deployment\.replicas: 2 replicas need deployment\.store \(PostgreSQL\)/,
    ],
    [
      "an autoscaler on SQLite",
      "  autoscale: { max: 4 }\n",
      /deployment\.autoscale\.max: 4 replicas need deployment\.store/,
    ],
    ["a store without a Secret name", "  store: { key: url }\n", /deployment\.store\.secret/],
    ["a bad grace", "  grace: soon\n", /deployment\.grace: "soon" is not a duration/],
    ["a bad storage size", "  storage: { size: lots }\n", /deployment\.storage\.size/],
    ["a bad egress exception", "  egressExcept: [metadata]\n", /deployment\.egressExcept/],
    [
      "autoscale max below min",
      "  store: { secret: pg }\n  autoscale: { min: 5, max: 2 }\n",
      /deployment\.autoscale\.max: must be an integer ≥ min/,
    ],
  ] as const
) {
  Deno.test(`generateManifests() rejects ${label}`, async () => {
    await assert.rejects(withDeployment(deployment), message);
  });
}
