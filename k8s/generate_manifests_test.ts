import assert from "node:assert/strict";
import { Deployment } from "kubernetes-models/apps/v1";
import { CronJob } from "kubernetes-models/batch/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-models/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { type CompiledWorkflow, loadWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import { unknownFields } from "../tests/fake_kube/mod.ts";
import { decodeBase64 } from "./_base64.ts";
import {
  generateManifests,
  type GenerateManifestsOptions,
  type KubeObject,
} from "./generate_manifests.ts";
import { collectWorkflowFiles } from "./workflow_files.ts";

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment,
  CronJob,
  NetworkPolicy,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  ConfigMap,
  Namespace,
  Secret,
  Service,
  ServiceAccount,
  PersistentVolumeClaim,
  PodDisruptionBudget,
  HorizontalPodAutoscaler,
};

const testdata = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

async function manifests(
  dir: string,
  options: Partial<GenerateManifestsOptions> = {},
): Promise<{ workflow: CompiledWorkflow; objects: KubeObject[] }> {
  const workflow = await loadWorkflow(testdata(dir));
  const files = await collectWorkflowFiles(workflow);
  const objects = generateManifests(workflow, {
    namespace: "apps",
    image: "ghcr.io/acme/engine:1.0.0",
    files,
    token: "t0ken",
    apiServerEndpoints: [{ ip: "172.18.0.2", port: 6443 }, { ip: "172.18.0.3", port: 6443 }],
    ...options,
  });
  return { workflow, objects };
}

// deno-lint-ignore no-explicit-any
type Any = Record<string, any>;
const find = (objects: KubeObject[], kind: string, name?: string) =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name)) as
    | Any
    | undefined;
const pods = (objects: KubeObject[]): Any[] => [
  find(objects, "Deployment")!.spec.template.spec,
  ...objects.filter((o) => o.kind === "CronJob").map((o) =>
    (o as Any).spec.jobTemplate.spec.template.spec
  ),
];

const CASES: [string, string, Partial<GenerateManifestsOptions>][] = [
  ["minimal", "minimal", {}],
  ["every feature", "full", {
    secrets: { slack: { token: "s3cret", nested: { a: 1 } }, plain: "text-secret" },
    createNamespace: true,
    runtimeConfig: "threshold: 5\n",
    clusterRegistry: "registry.internal:5000",
  }],
  ["no runtime class, digest image", "minimal", {
    runtimeClass: "",
    image: `ghcr.io/acme/engine@sha256:${"a".repeat(64)}`,
  }],
];

for (const [label, dir, options] of CASES) {
  Deno.test(`generateManifests() objects validate against the official schemas with no unknown field (${label})`, async () => {
    const { objects } = await manifests(dir, options);
    for (const object of objects) {
      const Model = MODELS[object.kind];
      assert.ok(Model, `no schema model for ${object.kind}`);
      new Model(object as never).validate();
      assert.deepEqual(
        unknownFields(object),
        [],
        `${object.kind}/${object.metadata.name} has unknown fields`,
      );
    }
  });

  Deno.test(`generateManifests() labels every object (${label})`, async () => {
    const { objects, workflow } = await manifests(dir, options);
    for (const o of objects.filter((o) => o.kind !== "Namespace")) {
      const l = o.metadata.labels!;
      assert.equal(l["app.kubernetes.io/name"], workflow.name, o.kind);
      assert.equal(l["app.kubernetes.io/instance"], workflow.name, o.kind);
      assert.equal(l["app.kubernetes.io/version"], workflow.version.replaceAll("+", "-"), o.kind);
      assert.equal(l["app.kubernetes.io/managed-by"], "pipedreamer", o.kind);
      assert.ok(l["app.kubernetes.io/part-of"], o.kind);
      assert.ok(
        l["app.kubernetes.io/version"]!.length <= 63 &&
          /^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(l["app.kubernetes.io/version"]!),
      );
    }
  });

  Deno.test(`generateManifests() hardens every pod and never puts secrets in env (${label})`, async () => {
    const { objects } = await manifests(dir, options);
    for (const spec of pods(objects)) {
      assert.deepEqual(spec.securityContext, {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        fsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      });
      for (const c of spec.containers) {
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.runAsNonRoot, true);
        assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] });
        assert.deepEqual(c.securityContext.seccompProfile, { type: "RuntimeDefault" });
        assert.ok(
          !JSON.stringify(c.env ?? []).includes("secret"),
          "a secret reaches the environment",
        );
        assert.ok(!(c.envFrom), "envFrom would expose a Secret as variables");
        assert.ok(c.volumeMounts.some((m: Any) => m.mountPath === "/tmp" && !m.readOnly));
      }
      assert.ok(spec.volumes.some((v: Any) => v.name === "tmp" && v.emptyDir));
    }
  });
}

Deno.test("generateManifests() runs `pipedreamer serve` on the versioned code ConfigMap with probes and default resources", async () => {
  const { objects } = await manifests("minimal");
  const dep = find(objects, "Deployment")!;
  const c = dep.spec.template.spec.containers[0];
  assert.deepEqual(c.args, [
    "serve",
    "/app/workflow",
    "--host",
    "0.0.0.0",
    "--port",
    "8080",
    "--token-file",
    "/app/token/token",
    "--data",
    "/var/lib/pipedreamer",
    "--grace",
    "30s",
    "--cron",
    "external",
  ]);
  // Cron belongs to the CronJobs (a flag, not an environment variable).
  assert.deepEqual(c.env.map((e: Any) => e.name), ["HOME", "DENO_DIR"]);
  assert.equal(c.readinessProbe.httpGet.path, "/ready");
  assert.equal(c.livenessProbe.httpGet.path, "/live");
  assert.deepEqual(c.resources, {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { memory: "512Mi" },
  });
  assert.equal(c.imagePullPolicy, "Always");
  assert.equal(dep.spec.template.spec.runtimeClassName, "gvisor");
  assert.equal(dep.spec.template.spec.automountServiceAccountToken, false);
  assert.equal(dep.spec.template.spec.serviceAccountName, undefined);
  const code = find(objects, "ConfigMap", "minimal-code-1.0.0")!;
  assert.equal(code.immutable, true);
  assert.ok(code.data["workflow.yaml"].includes("name: minimal"));
  const volume = dep.spec.template.spec.volumes.find((v: Any) => v.name === "workflow");
  assert.equal(volume.configMap.name, "minimal-code-1.0.0");
  assert.deepEqual(volume.configMap.items.map((i: Any) => i.path), [
    "nodes/only.ts",
    "workflow.yaml",
  ]);
  const mounts = Object.fromEntries(
    c.volumeMounts.map((m: Any) => [m.mountPath, m.readOnly === true]),
  );
  assert.deepEqual(mounts, {
    "/app/workflow": true,
    "/app/config": true,
    "/app/token": true,
    "/tmp": false,
    "/var/lib/pipedreamer": false,
  });
  // No secrets → no Secret and no mount: deploy never requires a Secret the workflow does not use.
  assert.equal(find(objects, "Secret", "minimal-secrets"), undefined);
  assert.deepEqual(objects.map((o) => o.kind), [
    "Secret",
    "ConfigMap",
    "ConfigMap",
    "Service",
    "PersistentVolumeClaim",
    "Deployment",
    "NetworkPolicy",
  ]);
});

Deno.test("generateManifests() builds secrets, RBAC, cron jobs and network policy from deployment: and capabilities", async () => {
  const { objects } = await manifests("full", {
    secrets: { slack: { token: "s3cret", nested: { a: 1 } }, plain: "text-secret" },
    clusterRegistry: "registry.internal:5000",
  });
  const secret = find(objects, "Secret", "full-featured-secrets")!;
  const text = (k: string) => new TextDecoder().decode(decodeBase64(secret.data[k]));
  assert.deepEqual(JSON.parse(text("slack")), { token: "s3cret", nested: { a: 1 } });
  assert.equal(text("plain"), "text-secret");

  const spec = find(objects, "Deployment")!.spec.template.spec;
  assert.equal(spec.serviceAccountName, "collector");
  assert.equal(spec.automountServiceAccountToken, true);
  assert.deepEqual(spec.imagePullSecrets, [{ name: "regcred" }]);
  assert.equal(spec.containers[0].image, "registry.internal:5000/acme/engine:1.0.0");
  assert.deepEqual(spec.containers[0].resources, {
    requests: { cpu: "250m", memory: "128Mi" },
    limits: { memory: "1Gi", cpu: "2" },
  });
  const secrets = spec.volumes.find((v: Any) => v.name === "secrets");
  assert.deepEqual(secrets.projected.sources, [{ secret: { name: "full-featured-secrets" } }, {
    secret: { name: "shared-slack" },
  }]);

  assert.deepEqual(find(objects, "Role")!.rules, [
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
  ]);
  assert.deepEqual(find(objects, "ClusterRole")!.rules, [
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"] },
    { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] },
  ]);
  assert.equal(find(objects, "ClusterRole")!.metadata.labels["pipedreamer.dev/namespace"], "apps");
  assert.deepEqual(find(objects, "ClusterRoleBinding")!.subjects, [{
    kind: "ServiceAccount",
    name: "collector",
    namespace: "apps",
  }]);

  const crons = objects.filter((o) => o.kind === "CronJob") as Any[];
  assert.deepEqual(crons.map((c) => [c.metadata.name, c.spec.schedule, c.spec.timeZone]), [
    ["full-featured-cron-0", "0 9 * * 1-5", "Europe/Berlin"],
    ["full-featured-cron-1", "*/5 * * * *", undefined],
  ]);
  const args = crons[0]!.spec.jobTemplate.spec.template.spec.containers[0].args;
  assert.deepEqual(args, [
    "run",
    "full-featured",
    "--url",
    "http://full-featured.apps.svc:8080",
    "--token-file",
    "/app/token/token",
    "--timeout",
    "3600s",
    "--idempotency-key",
    "$(JOB_NAME)",
    "--input",
    '{"report":"daily"}',
  ]);

  // A cron Job waits for its run (a failed run fails the Job) under an idempotency key.
  const env = crons[0]!.spec.jobTemplate.spec.template.spec.containers[0].env;
  assert.deepEqual(env[1], {
    name: "JOB_NAME",
    valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
  });

  const dns = {
    to: [{
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    }],
    ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
  };
  const egress = find(objects, "NetworkPolicy", "full-featured")!.spec.egress;
  assert.deepEqual(egress, [
    dns,
    {
      to: [{ ipBlock: { cidr: "10.1.2.3/32" } }],
      ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 80 }],
    },
    { to: [{ ipBlock: { cidr: "2001:db8::1/128" } }], ports: [{ protocol: "TCP", port: 8443 }] },
    // capabilities.k8s: the API server's endpoints only.
    { to: [{ ipBlock: { cidr: "172.18.0.2/32" } }], ports: [{ protocol: "TCP", port: 6443 }] },
    { to: [{ ipBlock: { cidr: "172.18.0.3/32" } }], ports: [{ protocol: "TCP", port: 6443 }] },
    // Hostnames: anywhere but cloud metadata and the private (pod, service, node) ranges.
    {
      to: [
        {
          ipBlock: {
            cidr: "0.0.0.0/0",
            except: [
              "169.254.169.254/32",
              "10.0.0.0/8",
              "172.16.0.0/12",
              "192.168.0.0/16",
              "100.64.0.0/10",
            ],
          },
        },
        { ipBlock: { cidr: "::/0" } },
      ],
      ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 443 }],
    },
    // The queue trigger: deployment.nats's server only (nats.messaging.svc:4222).
    {
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "messaging" } } }],
      ports: [{ protocol: "TCP", port: 4222 }],
    },
    { to: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: 9090 }] },
  ]);
  assert.deepEqual(find(objects, "NetworkPolicy", "full-featured-cron")!.spec.egress[0], dns);
  assert.deepEqual(find(objects, "NetworkPolicy", "full-featured-cron")!.spec.egress[1].to, [
    { podSelector: { matchLabels: find(objects, "Deployment")!.spec.selector.matchLabels } },
  ]);
});

Deno.test("generateManifests() is deterministic: the same input gives the same manifests", async () => {
  const a = await manifests("full", { secrets: { x: "y" } });
  const b = await manifests("full", { secrets: { x: "y" } });
  assert.deepEqual(a.objects, b.objects);
});

Deno.test("generateManifests() rejects a bad deployment: section with every issue and a hint", async () => {
  const workflow = await loadWorkflow(testdata("minimal"));
  const bad = {
    ...workflow,
    deployment: { replicas: -1, resources: { limits: { memory: "lots" } }, bogus: 1 },
  };
  let caught: unknown;
  try {
    generateManifests(bad, { namespace: "x", image: "a/b:1", files: [], token: "t" });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WorkflowSyntaxError);
  assert.deepEqual(caught.issues.map((i) => i.message), [
    'deployment: unknown key "bogus"',
    "deployment.replicas: must be a non-negative integer, got -1",
    'deployment.resources.limits.memory: "lots" is not a quantity',
  ]);
  assert.ok(
    caught.issues.every((i) =>
      i.file === "workflow.yaml" && i.hint !== undefined || !i.message.includes("quantity")
    ),
  );
});

for (
  const [label, options, runtimeClass, image, policy] of [
    ["defaults", {}, "gvisor", "ghcr.io/acme/engine:1.0.0", "Always"],
    ['--runtime-class ""', { runtimeClass: "" }, undefined, "ghcr.io/acme/engine:1.0.0", "Always"],
    [
      "--runtime-class kata",
      { runtimeClass: "kata" },
      "kata",
      "ghcr.io/acme/engine:1.0.0",
      "Always",
    ],
    [
      "digest",
      { image: `ghcr.io/acme/engine@sha256:${"b".repeat(64)}` },
      "gvisor",
      `ghcr.io/acme/engine@sha256:${"b".repeat(64)}`,
      "IfNotPresent",
    ],
    [
      "--cluster-registry",
      { image: "localhost:5000/engine:2", clusterRegistry: "registry:5000" },
      "gvisor",
      "registry:5000/engine:2",
      "Always",
    ],
  ] as const
) {
  Deno.test(`generateManifests() sets runtime class, image and pull policy (${label})`, async () => {
    const { objects } = await manifests("full", options);
    for (const spec of pods(objects)) {
      assert.equal(spec.runtimeClassName, runtimeClass);
      assert.equal(spec.containers[0].image, image);
      assert.equal(spec.containers[0].imagePullPolicy, policy);
    }
  });
}

Deno.test("the schema checks used above reject a wrong type and an unknown field", async () => {
  const { objects } = await manifests("minimal");
  const dep = structuredClone(find(objects, "Deployment")!);
  dep.spec.replicas = "two";
  assert.throws(() => new Deployment(dep as never).validate());
  dep.spec.replicas = 1;
  dep.spec.template.spec.containers[0].imagePolicy = "Always";
  assert.deepEqual(unknownFields(dep), [".spec.template.spec.containers[0].imagePolicy"]);
});
