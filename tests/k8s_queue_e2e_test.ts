/**
 * Queue triggers in the cluster: `deployment.nats` gives the deployed engine its NATS server
 * (the URL with its token in a Secret, read by `serve --nats-url-file`), and
 * `deployment.autoscale` becomes a KEDA ScaledObject where KEDA's CRD is installed, else the CPU
 * HorizontalPodAutoscaler, never both. The real CLI in a subprocess, the fake API server of
 * tests/fake_kube (a test double), KEDA's official CRD installed into it, a real nats-server and
 * a real `pipedreamer serve` behind the service proxy.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FakeKube, kedaScaledObjectCrd } from "./fake_kube/mod.ts";
import { DeployedEngine } from "./fake_kube/deployed_engine.ts";
import { copyDir, fakeCluster, type FakeClusterEnv, ok } from "./fake_kube/cluster_env.ts";
import { NATS_TOKEN as TOKEN, queueTest, runFromQueue } from "./_queue_run.ts";

const NAME = "queue-k8s";
const QUEUE = new URL(`./testdata/k8s/${NAME}`, import.meta.url).pathname;
const IMAGE = `ghcr.io/acme/${NAME}:1.0.0`;
const INSTANCE = `app.kubernetes.io/instance=${NAME}`;
const SO = ["keda.sh/v1alpha1", "ScaledObject"] as const;
const HPA = ["autoscaling/v2", "HorizontalPodAutoscaler"] as const;

function seedSecret(kube: FakeKube, name: string, data: Record<string, string>): void {
  kube.seed({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "default" },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, btoa(v)])),
  });
}

/** A copy of queue-k8s whose `deployment:` also has `extra` lines. */
async function project(env: FakeClusterEnv, extra = ""): Promise<string> {
  const dir = join(env.tmp, NAME);
  await copyDir(QUEUE, dir);
  if (extra) {
    const file = join(dir, "workflow.yaml");
    await Deno.writeTextFile(file, `${await Deno.readTextFile(file)}${extra}`);
  }
  return dir;
}

queueTest(
  "a deployed queue trigger consumes from NATS through the URL in deployment.nats's Secret",
  async (nats) => {
    await using env = await fakeCluster();
    const engine = new DeployedEngine(env.kube, "default", NAME);
    env.kube.setServiceBackend("default", NAME, engine.handle);
    try {
      const dir = await project(env);
      seedSecret(env.kube, "nats-conn", { url: `nats://${TOKEN}@127.0.0.1:${nats.port}` });
      const deployed = await env.cli("deploy", dir, "--image", IMAGE, "--bundle", "source");
      ok(deployed, "deploy");
      const dep = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
      const spec = dep.spec as { template: { spec: { containers: { args: string[] }[] } } };
      const args = spec.template.spec.containers[0]!.args;
      assert.equal(args[args.indexOf("--nats-url-file") + 1], "/app/nats/url");
      // The token is in the Secret only: not in the Deployment, nor in any output.
      const objects = JSON.stringify(env.kube.all(INSTANCE));
      assert.ok(!objects.includes(TOKEN) && !objects.includes(btoa(TOKEN).slice(0, 12)));
      assert.ok(!`${deployed.stdout}${deployed.stderr}`.includes(TOKEN));

      // The pod's engine starts (the first request through the Service) and sets up its
      // JetStream consumer; a message published to the subject becomes a run.
      const token = atob(
        (env.kube.get("v1", "Secret", "default", `${NAME}-token`)!.data as { token: string })
          .token,
      );
      const get = async (path: string) => {
        const res = await engine.handle(
          new Request(`http://engine${path}`, { headers: { "x-pipedreamer-token": token } }),
        );
        return await res.json();
      };
      assert.equal((await get("/health")).status, "ok");
      const record = await runFromQueue({
        natsUrl: nats.url,
        stream: "ORDERS",
        durable: NAME,
        subject: "orders.new",
        payload: { amount: 21 },
      }, get);
      assert.deepEqual(record.result, { doubled: 42 });
    } finally {
      await engine.close();
    }
  },
);

Deno.test("deploy rejects a queue trigger without deployment.nats at its line, before touching the cluster", async () => {
  await using env = await fakeCluster();
  const dir = await project(env);
  const file = join(dir, "workflow.yaml");
  const yaml = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, yaml.replace(/deployment:\n(.*\n)*/, ""));
  const result = await env.cli("deploy", dir, "--image", IMAGE, "--bundle", "source");
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /workflow\.yaml:5:5/);
  assert.match(result.stderr, /triggers\[0\]: a queue trigger needs NATS in the cluster/);
  assert.match(result.stderr, /deployment: \{ nats: \{ url: nats:\/\//);
  assert.equal(env.kube.requests.filter((r) => r.method !== "GET").length, 0);
});

const AUTOSCALE = "  store: { secret: pg }\n  autoscale: { min: 1, max: 4, keda: KEDA }\n";

Deno.test("autoscale is a KEDA ScaledObject where discovery finds KEDA, else the CPU HPA; never both", async () => {
  await using env = await fakeCluster();
  const dir = await project(env, AUTOSCALE.replace("KEDA", "auto"));
  seedSecret(env.kube, "pg", { url: "postgres://u:p@db/pd" });
  seedSecret(env.kube, "nats-conn", { url: `nats://${TOKEN}@nats.messaging.svc:4222` });
  const deploy = () => env.cli("deploy", dir, "--image", IMAGE, "--bundle", "source", "--no-wait");
  // The workflow's autoscalers (what `undeploy` would find), whatever the cluster serves.
  const present = () =>
    env.kube.all(INSTANCE).map((o) => o.kind).filter((k) => k === SO[1] || k === HPA[1]);

  // No KEDA in the cluster: the CPU HPA, and deploy says why.
  const first = await deploy();
  ok(first, "deploy without KEDA");
  assert.match(
    first.stderr,
    /autoscaler: CPU HorizontalPodAutoscaler \(API discovery found no keda\.sh\/v1alpha1 scaledobjects \(KEDA is not installed\)\)/,
  );
  assert.deepEqual(present(), ["HorizontalPodAutoscaler"]);
  assert.ok(env.kube.requests.some((r) => r.path === "/apis/keda.sh/v1alpha1"));

  const check = async () =>
    Object.fromEntries(
      JSON.parse((await env.cli("cluster", "check", "-o", "json")).stdout).checks.map((
        c: { name: string; detail: string },
      ) => [c.name, c.detail]),
    );
  assert.match(
    (await check()).keda,
    /KEDA is not installed: deployment\.autoscale generates the CPU/,
  );

  // KEDA installed: the ScaledObject (stored, so valid against KEDA's CRD), the HPA gone first.
  env.kube.installCrd(await kedaScaledObjectCrd());
  assert.match((await check()).keda, /KEDA is installed/);
  env.kube.deny({ verb: "patch", resource: "scaledobjects", group: "keda.sh" });
  assert.match(
    (await check()).permissions,
    /missing 1 of \d+: patch scaledobjects\.keda\.sh \(deploy \(deployment\.autoscale with KEDA\)\)/,
  );
  env.kube.allowAll();
  const before = env.kube.requests.length;
  const second = await deploy();
  ok(second, "deploy with KEDA");
  assert.match(
    second.stderr,
    /autoscaler: KEDA ScaledObject \(API discovery found keda\.sh\/v1alpha1 scaledobjects\)/,
  );
  assert.deepEqual(present(), ["ScaledObject"]);
  const writes = env.kube.requests.slice(before).filter((r) => r.method !== "GET");
  const hpaDeleted = writes.findIndex((r) =>
    r.method === "DELETE" && r.path.endsWith(`/horizontalpodautoscalers/${NAME}`)
  );
  const soApplied = writes.findIndex((r) => r.path.endsWith(`/scaledobjects/${NAME}`));
  assert.ok(hpaDeleted >= 0 && hpaDeleted < soApplied, "the HPA must go before KEDA takes over");
  const so = env.kube.get(...SO, "default", NAME)!;
  const spec = so.spec as { scaleTargetRef: unknown; triggers: { metadata: unknown }[] };
  assert.deepEqual(spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: NAME });
  assert.deepEqual(spec.triggers[0]!.metadata, {
    natsServerMonitoringEndpoint: "nats.messaging.svc:8222",
    account: "$G",
    stream: "ORDERS",
    consumer: NAME,
    lagThreshold: "10",
  });
  // The Deployment's replicas stay unowned by deploy: KEDA's HPA scales it.
  const dep = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
  const replicaManagers = (dep.metadata.managedFields ?? []).filter((m) =>
    JSON.stringify(m.fieldsV1).includes('"f:replicas"')
  ).map((m) => m.manager);
  assert.ok(!replicaManagers.includes("pipedreamer"), replicaManagers.join());

  // KEDA's own HPA (owned by the ScaledObject, our labels excluded as the annotation asks) is
  // not this workflow's: deploy leaves it alone.
  env.kube.seed({
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name: `keda-hpa-${NAME}`,
      namespace: "default",
      labels: {
        "app.kubernetes.io/managed-by": "keda-operator",
        "scaledobject.keda.sh/name": NAME,
      },
      ownerReferences: [{
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        name: NAME,
        uid: so.metadata.uid!,
        controller: true,
      }],
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: NAME },
      maxReplicas: 4,
    },
  });
  ok(await deploy(), "deploy again");
  assert.ok(env.kube.get(...HPA, "default", `keda-hpa-${NAME}`), "KEDA's HPA was pruned");
  assert.deepEqual(present(), ["ScaledObject"]);

  // keda: false (a new version): back to the CPU HPA, the ScaledObject (and with it KEDA's
  // HPA) gone.
  const file = join(dir, "workflow.yaml");
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace("keda: auto", "keda: false")
      .replace('version: "1.0.0"', 'version: "1.1.0"'),
  );
  const third = await deploy();
  ok(third, "deploy with keda: false");
  assert.match(
    third.stderr,
    /autoscaler: CPU HorizontalPodAutoscaler \(deployment\.autoscale\.keda is false\)/,
  );
  assert.deepEqual(present(), ["HorizontalPodAutoscaler"]);
  assert.equal(env.kube.get(...HPA, "default", `keda-hpa-${NAME}`), undefined);

  // KEDA again (1.2.0), then undeploy: the ScaledObject goes with everything else.
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace("keda: false", "keda: auto")
      .replace('version: "1.1.0"', 'version: "1.2.0"'),
  );
  ok(await deploy(), "deploy with KEDA again");
  assert.deepEqual(present(), ["ScaledObject"]);
  ok(await env.cli("undeploy", NAME, "--yes"), "undeploy");
  assert.deepEqual(env.kube.all(INSTANCE).map((o) => `${o.kind}/${o.metadata.name}`), []);
  assert.deepEqual(env.kube.list(...SO, "default"), []);
});

Deno.test("keda: true fails on a cluster without KEDA before applying anything; its dry run is byte-identical", async () => {
  await using env = await fakeCluster();
  const dir = await project(env, AUTOSCALE.replace("KEDA", "true"));
  seedSecret(env.kube, "pg", { url: "postgres://u:p@db/pd" });
  const result = await env.cli("deploy", dir, "--image", IMAGE, "--bundle", "source");
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /deployment\.autoscale\.keda is true, but the cluster has no KEDA \(API discovery finds no keda\.sh\/v1alpha1 scaledobjects\); install KEDA, or set keda: auto or false/,
  );
  assert.equal(env.kube.requests.filter((r) => r.method !== "GET").length, 0);

  const args = ["deploy", dir, "--image", IMAGE, "--bundle", "source", "--dry-run", "-o", "yaml"];
  const asked = env.kube.requests.length;
  const a = await env.cli(...args);
  const b = await env.cli(...args);
  ok(a, "dry run");
  assert.equal(a.stdout, b.stdout, "two dry runs differ");
  assert.match(a.stdout, /^kind: ScaledObject$/m);
  assert.doesNotMatch(a.stdout, /^kind: HorizontalPodAutoscaler$/m);
  assert.match(a.stderr, /# autoscaler: KEDA ScaledObject \(deployment\.autoscale\.keda is true\)/);

  // keda: auto in a dry run asks no cluster: the HPA, and it says how to get KEDA.
  const file = join(dir, "workflow.yaml");
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace("keda: true", "keda: auto"),
  );
  const auto = await env.cli(...args);
  ok(auto, "dry run auto");
  assert.match(auto.stdout, /^kind: HorizontalPodAutoscaler$/m);
  assert.doesNotMatch(auto.stdout, /^kind: ScaledObject$/m);
  assert.match(
    auto.stderr,
    /# autoscaler: CPU HorizontalPodAutoscaler \(keda: auto and no cluster was asked \(dry run\); set deployment\.autoscale\.keda: true/,
  );
  assert.ok(!env.kube.requests.slice(asked).some((r) => r.path.startsWith("/apis/keda.sh")));
});
