import assert from "node:assert/strict";
import { join } from "node:path";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { loadWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import { customObjectIssues, kedaScaledObjectCrd, unknownFields } from "../tests/fake_kube/mod.ts";
import { planDeploy } from "./deploy.ts";
import { generateManifests, type KubeObject } from "./generate_manifests.ts";
import { collectWorkflowFiles } from "./workflow_files.ts";

// deno-lint-ignore no-explicit-any
type Any = Record<string, any>;

const QUEUE = `name: jobs
version: "1.0.0"
triggers:
  - type: manual
  - type: queue
    subject: jobs.new
    stream: JOBS
  - type: queue
    subject: jobs.urgent
    stream: JOBS
    durable: urgent
nodes:
  only:
    path: ./nodes/only.ts
`;

/** A project with `workflow` (default QUEUE) plus `deployment`, in a temp dir. */
async function project<T>(deployment: string, body: (dir: string) => Promise<T>, workflow = QUEUE) {
  const dir = await Deno.makeTempDir({ prefix: "pd-keda-manifests-" });
  try {
    await Deno.mkdir(join(dir, "nodes"));
    await Deno.writeTextFile(join(dir, "nodes/only.ts"), "export default () => 1;\n");
    await Deno.writeTextFile(join(dir, "workflow.yaml"), `${workflow}deployment:\n${deployment}`);
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function manifests(deployment: string, kedaInstalled?: boolean, workflow = QUEUE) {
  return project(deployment, async (dir) => {
    const wf = await loadWorkflow(dir);
    return generateManifests(wf, {
      namespace: "apps",
      image: "ghcr.io/acme/jobs:1.0.0",
      files: await collectWorkflowFiles(wf),
      kedaInstalled,
    });
  }, workflow);
}

const find = (objects: KubeObject[], kind: string) =>
  objects.find((o) => o.kind === kind) as Any | undefined;

async function validate(objects: KubeObject[]): Promise<void> {
  const models: Record<string, new (data: never) => { validate(): void }> = {
    Deployment,
    HorizontalPodAutoscaler,
    NetworkPolicy,
  };
  const crd = await kedaScaledObjectCrd();
  for (const o of objects) {
    if (o.kind === "ScaledObject") {
      assert.deepEqual(customObjectIssues(crd, o), [], "ScaledObject has unknown fields");
      continue;
    }
    const Model = models[o.kind];
    if (Model) new Model(o as never).validate();
    assert.deepEqual(unknownFields(o), [], `${o.kind} has unknown fields`);
  }
}

const KEDA = "  store: { secret: pg }\n  nats: { url: nats://nats.messaging.svc:4222 }\n" +
  "  autoscale: { min: 2, max: 12, cpu: 70, keda: true, lagThreshold: 25 }\n";

Deno.test("autoscale with keda: a ScaledObject on each JetStream consumer's lag, no HPA, valid against KEDA's CRD", async () => {
  const objects = await manifests(KEDA);
  await validate(objects);
  assert.equal(find(objects, "HorizontalPodAutoscaler"), undefined, "never both");
  const so = find(objects, "ScaledObject")!;
  assert.equal(so.apiVersion, "keda.sh/v1alpha1");
  assert.deepEqual(so.spec, {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "jobs" },
    minReplicaCount: 2,
    maxReplicaCount: 12,
    triggers: [
      // Stream and consumer as the engine's queue trigger creates them (durable: the workflow
      // name unless set).
      {
        type: "nats-jetstream",
        metadata: {
          natsServerMonitoringEndpoint: "nats.messaging.svc:8222",
          account: "$G",
          stream: "JOBS",
          consumer: "jobs",
          lagThreshold: "25",
        },
      },
      {
        type: "nats-jetstream",
        metadata: {
          natsServerMonitoringEndpoint: "nats.messaging.svc:8222",
          account: "$G",
          stream: "JOBS",
          consumer: "urgent",
          lagThreshold: "25",
        },
      },
      { type: "cpu", metricType: "Utilization", metadata: { value: "70" } },
    ],
  });
  // KEDA copies labels onto its own HPA unless excluded: it must not look like ours.
  assert.equal(
    so.metadata.annotations["scaledobject.keda.sh/hpa-excluded-labels"],
    Object.keys(so.metadata.labels).sort().join(","),
  );
  const dep = find(objects, "Deployment")!;
  assert.equal(dep.spec.replicas, undefined, "KEDA's HPA owns replicas");
  const args: string[] = dep.spec.template.spec.containers[0].args;
  assert.equal(args[args.indexOf("--nats-url") + 1], "nats://nats.messaging.svc:4222");
  assert.ok(find(objects, "PodDisruptionBudget"));
});

Deno.test("keda: auto is the ScaledObject only where API discovery found KEDA; keda: false is the HPA", async () => {
  const auto = KEDA.replace("keda: true", "keda: auto");
  const found = await manifests(auto, true);
  assert.ok(find(found, "ScaledObject"));
  assert.equal(find(found, "HorizontalPodAutoscaler"), undefined);
  for (const [deployment, installed] of [[auto, false], [auto, undefined]] as const) {
    const objects = await manifests(deployment, installed);
    await validate(objects);
    assert.equal(find(objects, "ScaledObject"), undefined);
    assert.equal(find(objects, "HorizontalPodAutoscaler")!.spec.maxReplicas, 12);
  }
  const off = await manifests(KEDA.replace("keda: true", "keda: false"), true);
  assert.equal(find(off, "ScaledObject"), undefined);
  assert.ok(find(off, "HorizontalPodAutoscaler"));
  // No JetStream trigger: nothing to scale on but CPU, whatever the cluster has.
  const core = await manifests(auto, true, QUEUE.replaceAll("    stream: JOBS\n", ""));
  assert.equal(find(core, "ScaledObject"), undefined);
  assert.ok(find(core, "HorizontalPodAutoscaler"));
});

Deno.test("keda: true on a cluster without KEDA fails, naming the API discovery", async () => {
  await assert.rejects(
    manifests(KEDA, false),
    /keda is true, but the cluster has no KEDA \(API discovery finds no keda\.sh\/v1alpha1 scaledobjects\)/,
  );
});

Deno.test("deployment.nats from a Secret: mounted as a file for --nats-url-file, never in args or env", async () => {
  const objects = await manifests(
    "  nats: { secret: nats-conn, key: dsn, host: nats.messaging.svc:4222 }\n",
  );
  await validate(objects);
  const pod = find(objects, "Deployment")!.spec.template.spec;
  const c = pod.containers[0];
  assert.deepEqual(pod.volumes.find((v: Any) => v.name === "nats"), {
    name: "nats",
    secret: { secretName: "nats-conn", items: [{ key: "dsn", path: "url" }], defaultMode: 0o440 },
  });
  assert.ok(c.volumeMounts.some((m: Any) => m.mountPath === "/app/nats" && m.readOnly));
  assert.equal(c.args[c.args.indexOf("--nats-url-file") + 1], "/app/nats/url");
  assert.ok(!c.args.includes("--nats-url"));
  assert.ok(!JSON.stringify(c.env).includes("nats"));
  const egress = find(objects, "NetworkPolicy")!.spec.egress;
  assert.deepEqual(egress.at(-1), {
    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "messaging" } } }],
    ports: [{ protocol: "TCP", port: 4222 }],
  });
});

Deno.test("NetworkPolicy egress to NATS targets its servers: an IP, this namespace, a public host, or any namespace", async () => {
  const egressOf = async (nats: string) =>
    find(await manifests(`  nats: ${nats}\n`), "NetworkPolicy")!.spec.egress.slice(1);
  assert.deepEqual(await egressOf("{ url: nats://10.0.0.7:4333 }"), [
    { to: [{ ipBlock: { cidr: "10.0.0.7/32" } }], ports: [{ protocol: "TCP", port: 4333 }] },
  ]);
  assert.deepEqual(await egressOf("{ url: nats://nats }"), [
    { to: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: 4222 }] },
  ]);
  const [wide] = await egressOf("{ url: tls://connect.ngs.global }");
  assert.equal(wide.to[0].ipBlock.cidr, "0.0.0.0/0");
  assert.ok(wide.to[0].ipBlock.except.includes("169.254.169.254/32"));
  assert.deepEqual(await egressOf("{ secret: nats-conn }"), [
    { to: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: 4222 }] },
  ]);
});

/** The first issue planDeploy reports for `deployment`, as `file:line:column` and the issue. */
function firstIssue(deployment: string) {
  return project(deployment, async (dir) => {
    const error = await planDeploy(dir, {
      namespace: "apps",
      image: "ghcr.io/acme/jobs:1.0.0",
      bundle: "source",
    }).catch((e) => e);
    assert.ok(error instanceof WorkflowSyntaxError, String(error));
    const issue = error.issues[0]!;
    return { where: `${issue.file}:${issue.line}:${issue.column}`, ...issue };
  });
}

Deno.test("a queue trigger without deployment.nats is an error at the trigger's line and column, with a hint", async () => {
  const issue = await firstIssue("  replicas: 1\n");
  assert.equal(issue.where, "workflow.yaml:5:5");
  assert.match(issue.message, /^triggers\[1\]: a queue trigger needs NATS in the cluster/);
  assert.match(issue.hint!, /nats: \{ url: nats:\/\/<service>\.<namespace>\.svc:4222 \}/);
});

Deno.test("deployment: issues point at their key in workflow.yaml", async () => {
  const issue = await firstIssue(KEDA.replace("lagThreshold: 25", "lagThreshold: 0"));
  assert.equal(issue.where, "workflow.yaml:18:54");
  assert.match(issue.message, /deployment\.autoscale\.lagThreshold: must be an integer ≥ 1/);
});

for (
  const [label, deployment, message, workflow] of [
    [
      "KEDA with several replicas on SQLite",
      "  nats: { url: nats://nats.messaging.svc }\n  autoscale: { max: 3, keda: true }\n",
      /deployment\.autoscale\.max: 3 replicas need deployment\.store/,
      QUEUE,
    ],
    [
      "credentials in deployment.nats.url",
      "  nats: { url: nats://user:hunter2@nats.messaging.svc }\n",
      /deployment\.nats\.url: holds credentials; put the URL in a Secret instead/,
      QUEUE,
    ],
    [
      "credentials in a scheme-less deployment.nats.url",
      '  nats: { url: "nats:hunter2@nats.messaging.svc" }\n',
      /deployment\.nats\.url: holds credentials/,
      QUEUE,
    ],
    [
      "both url and secret",
      "  nats: { url: nats://nats, secret: nats-conn }\n",
      /deployment\.nats: give either url \(no credentials\) or secret/,
      QUEUE,
    ],
    [
      "keda: true without a JetStream trigger",
      "  store: { secret: pg }\n  nats: { url: nats://nats }\n  autoscale: { max: 3, keda: true }\n",
      /deployment\.autoscale\.keda: true needs a queue trigger with stream:/,
      QUEUE.replaceAll("    stream: JOBS\n", ""),
    ],
    [
      "keda: true without a monitoring endpoint",
      "  store: { secret: pg }\n  nats: { secret: nats-conn }\n  autoscale: { max: 3, keda: true }\n",
      /deployment\.nats\.monitoring: KEDA reads the consumer's lag/,
      QUEUE,
    ],
    [
      "a bad keda value",
      "  store: { secret: pg }\n  nats: { url: nats://nats }\n  autoscale: { max: 3, keda: yes }\n",
      /deployment\.autoscale\.keda: "yes" is not true, false or auto/,
      QUEUE,
    ],
  ] as const
) {
  Deno.test(`generateManifests() rejects ${label}`, async () => {
    await assert.rejects(manifests(deployment, true, workflow), (error: Error) => {
      assert.match(error.message, message);
      assert.ok(!error.message.includes("hunter2"), "the credentials leaked into the error");
      return true;
    });
  });
}

Deno.test("the CRD check fails on what KEDA's CRD refuses (it can fail)", async () => {
  const crd = await kedaScaledObjectCrd();
  const so = find(await manifests(KEDA), "ScaledObject")!;
  const extra = structuredClone(so);
  extra.spec.pollingIntervalSecond = 30;
  assert.deepEqual(customObjectIssues(crd, extra), [".spec.pollingIntervalSecond"]);
  const missing = structuredClone(so);
  delete missing.spec.triggers;
  assert.throws(
    () => customObjectIssues(crd, missing),
    /spec: Invalid value: must have required property 'triggers'/,
  );
  const wrong = structuredClone(so);
  wrong.spec.maxReplicaCount = "twelve";
  assert.throws(
    () => customObjectIssues(crd, wrong),
    /spec\.maxReplicaCount: Invalid value: must be integer/,
  );
});
