import assert from "node:assert/strict";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from "kubernetes-models/v1";
import { loadWorkflow } from "../engine/mod.ts";
import { unknownFields } from "../tests/fake_kube/mod.ts";
import { canaryManifests } from "./_canary_manifests.ts";
import { generateManifests, type KubeObject } from "./generate_manifests.ts";
import { collectWorkflowFiles } from "./workflow_files.ts";

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment,
  NetworkPolicy,
  ConfigMap,
  Secret,
  Service,
  PersistentVolumeClaim,
};

// deno-lint-ignore no-explicit-any
type Any = Record<string, any>;

async function live(dir: string): Promise<KubeObject[]> {
  const workflow = await loadWorkflow(new URL(`./testdata/${dir}`, import.meta.url).pathname);
  return generateManifests(workflow, {
    namespace: "apps",
    image: "ghcr.io/acme/engine:1.1.0",
    files: await collectWorkflowFiles(workflow),
    secrets: { slack: { token: "s3cret" } },
    apiServerEndpoints: [{ ip: "172.18.0.2", port: 6443 }],
  });
}

const find = (objects: KubeObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as Any | undefined;

for (const dir of ["minimal", "full"]) {
  Deno.test(`canaryManifests() validate against the official schemas with no unknown field (${dir})`, async () => {
    const objects = canaryManifests(await live(dir), 10);
    for (const object of objects) {
      const Model = MODELS[object.kind];
      assert.ok(Model, `no schema model for ${object.kind}`);
      new Model(object as never).validate();
      assert.deepEqual(unknownFields(object), [], `${object.kind}/${object.metadata.name}`);
    }
  });

  Deno.test(`canaryManifests(): own pods, own Service, switch last, live objects untouched (${dir})`, async () => {
    const liveObjects = await live(dir);
    const before = structuredClone(liveObjects);
    const objects = canaryManifests(liveObjects, 25);
    assert.deepEqual(liveObjects, before, "the live manifests are not changed");
    const name = (liveObjects.find((o) => o.kind === "Deployment")!).metadata.name;
    const liveDep = find(liveObjects, "Deployment", name)!;
    const dep = find(objects, "Deployment", `${name}-canary`)!;
    const svc = find(objects, "Service", `${name}-canary`)!;
    const liveSvc = find(liveObjects, "Service", name)!;
    const podLabels = dep.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    assert.ok(selects(dep.spec.selector.matchLabels), "the canary Deployment selects its pods");
    assert.ok(selects(svc.spec.selector), "the canary Service selects the canary pods");
    assert.ok(!selects(liveSvc.spec.selector), "the live Service never selects a canary pod");
    assert.ok(
      !selects(liveDep.spec.selector.matchLabels),
      "the live Deployment does not adopt them",
    );
    assert.equal(dep.spec.replicas, 1);
    const args: string[] = dep.spec.template.spec.containers[0].args;
    assert.deepEqual(args.slice(-2), ["--queue", "external"]);
    assert.ok(!args.includes("--canary-file"));
    assert.ok(liveDep.spec.template.spec.containers[0].args.includes("--canary-file"));
    const volumes: Any[] = dep.spec.template.spec.volumes;
    assert.ok(!volumes.some((v) => v.name === "canary"));
    const claim = volumes.find((v) => v.persistentVolumeClaim);
    if (dir === "minimal") {
      assert.equal(claim?.persistentVolumeClaim.claimName, `${name}-canary-data`);
      assert.ok(find(objects, "PersistentVolumeClaim", `${name}-canary-data`));
    } else {
      assert.equal(claim, undefined, "PostgreSQL: the canary shares the store");
    }
    const projected = volumes.find((v) => v.projected)?.projected.sources.map((s: Any) =>
      s.secret.name
    );
    assert.ok(projected.includes(`${name}-canary-secrets`));
    assert.ok(!projected.includes(`${name}-secrets`));
    assert.ok(find(objects, "Secret", `${name}-canary-secrets`));
    const last = objects.at(-1)! as Any;
    assert.equal(last.metadata.name, `${name}-canary`);
    assert.deepEqual(JSON.parse(last.data["canary.json"]), {
      url: `http://${name}-canary.apps.svc:8080`,
      percent: 25,
      version: liveDep.metadata.annotations["pipedreamer.dev/version"],
    });
    const release = JSON.parse(
      find(objects, "ConfigMap", `${name}-canary-release`)!.data["objects.json"],
    );
    assert.deepEqual(
      release,
      liveObjects.filter((o) => o.kind !== "Secret" && o.kind !== "Namespace"),
      "promote applies what a deploy of this version applies, without Secret values",
    );
    assert.ok(!JSON.stringify(release).includes("s3cret"));
    for (
      const o of objects.filter((o) =>
        o.metadata.labels?.["app.kubernetes.io/component"] !== "code"
      )
    ) {
      assert.equal(o.metadata.labels?.["app.kubernetes.io/component"], "canary", o.metadata.name);
    }
    assert.ok(!objects.some((o) => o.kind === "CronJob"), "cron stays on the live version");
  });
}

Deno.test("canaryManifests() rejects a share outside 1-99", async () => {
  const objects = await live("minimal");
  for (const bad of [0, 100, -5, 12.5, NaN]) {
    assert.throws(() => canaryManifests(objects, bad), /percentage must be 1 to 99/);
  }
});

Deno.test("the live engine may reach the canary pods (NetworkPolicy egress)", async () => {
  const objects = await live("minimal");
  const policy = objects.find((o) => o.kind === "NetworkPolicy") as Any;
  assert.ok(
    policy.spec.egress.some((r: Any) =>
      r.to?.[0]?.podSelector?.matchLabels?.["app.kubernetes.io/component"] === "canary" &&
      r.ports[0].port === "http"
    ),
  );
});
