import assert from "node:assert/strict";
import { join } from "node:path";
import { FakeClock } from "../testing/mod.ts";
import { type FakeKube, startFakeKube } from "../tests/fake_kube/mod.ts";
import { type DeployOptions, deployWorkflow, planDeploy } from "./deploy.ts";
import { readApiServerEndpoints } from "./api_server_endpoints.ts";
import { type KubeClient, loadKubeClient } from "./kube_client.ts";
import { undeployWorkflow } from "./undeploy.ts";

const FULL = new URL("./testdata/full", import.meta.url).pathname;
const INSTANCE = "app.kubernetes.io/instance=full-featured";

async function withCluster(fn: (kube: FakeKube, client: KubeClient, dir: string) => Promise<void>) {
  const kube = await startFakeKube({ namespaces: ["default", "apps"] });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "config"), kube.kubeconfig());
    await fn(kube, loadKubeClient({ kubeconfig: join(dir, "config") }), dir);
  } finally {
    await kube.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Deploys with a fake clock that advances whenever the rollout waiter sleeps. */
async function deploy(client: KubeClient, dir: string, options: DeployOptions = {}) {
  const plan = await planDeploy(dir, {
    namespace: "apps",
    image: "ghcr.io/acme/full:2",
    bundle: "source",
    token: "t",
    // What deploy reads from the cluster (the fake's Endpoints "kubernetes").
    apiServerEndpoints: await readApiServerEndpoints(client),
  });
  const clock = new FakeClock();
  let settled = false;
  const done = deployWorkflow(client, plan, { ...options, rollout: { clock } }).finally(() =>
    settled = true
  );
  while (!settled) {
    await Promise.race([clock.waitForSleepers(1), done.catch(() => {})]);
    if (!settled) await clock.advance(1000);
  }
  return await done;
}

async function copy(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copy(join(from, e.name), join(to, e.name));
    else await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

Deno.test("deployWorkflow() requires the shared Secrets deployment.secrets names, before applying anything", async () => {
  await withCluster(async (kube, client) => {
    await assert.rejects(
      deploy(client, FULL),
      /Cannot deploy "full-featured": deployment\.secrets names Secret "shared-slack" that do not exist in namespace "apps"; create them first/,
    );
    assert.deepEqual(kube.all(INSTANCE), []);
    kube.seed({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "shared-slack", namespace: "apps" },
      data: {},
    });
    await assert.rejects(
      deploy(client, FULL),
      /deployment\.store names Secret "full-featured-db" that does not exist in namespace "apps"; create it with the postgres:\/\/ URL under key "url"/,
    );
    kube.seed({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "full-featured-db", namespace: "apps" },
      data: { url: btoa("postgres://u:p@db/pd") },
    });
    const result = await deploy(client, FULL);
    assert.equal(result.version, "2.3.0+build.7");
    assert.ok(
      kube.get(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        undefined,
        "pipedreamer-apps-full-featured",
      ),
    );
  });
});

Deno.test("deployWorkflow() refuses changed code under an already deployed version", async () => {
  await withCluster(async (kube, client, tmp) => {
    kube.seed({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "shared-slack", namespace: "apps" },
      data: {},
    });
    kube.seed({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "full-featured-db", namespace: "apps" },
      data: { url: btoa("postgres://u:p@db/pd") },
    });
    const dir = join(tmp, "wf");
    await copy(FULL, dir);
    await deploy(client, dir);
    await Deno.writeTextFile(join(dir, "nodes/fetch.ts"), "export default () => 2;\n");
    await assert.rejects(
      deploy(client, dir),
      /version 2\.3\.0\+build\.7 is already deployed with different code; bump version in workflow\.yaml/,
    );
  });
});

Deno.test("deployWorkflow() prunes what the new version dropped and keeps old code for rollback; undeploy removes everything", async () => {
  await withCluster(async (kube, client, tmp) => {
    kube.seed({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "shared-slack", namespace: "apps" },
      data: {},
    });
    kube.seed({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "full-featured-db", namespace: "apps" },
      data: { url: btoa("postgres://u:p@db/pd") },
    });
    const dir = join(tmp, "wf");
    await copy(FULL, dir);
    await deploy(client, dir);
    assert.equal(kube.list("batch/v1", "CronJob", "apps").length, 2);
    const yaml = await Deno.readTextFile(join(dir, "workflow.yaml"));
    await Deno.writeTextFile(
      join(dir, "workflow.yaml"),
      yaml.replace('version: "2.3.0+build.7"', 'version: "2.4.0"').replace(
        '  - type: cron\n    schedule: "*/5 * * * *"\n',
        "",
      ),
    );
    const result = await deploy(client, dir);
    assert.deepEqual(result.pruned, [
      "CronJob/full-featured-cron-0",
      "CronJob/full-featured-cron-1",
    ]);
    assert.deepEqual(kube.list("batch/v1", "CronJob", "apps").map((c) => c.metadata.name), [
      "full-featured-cron",
    ]);
    assert.deepEqual(
      kube.list("v1", "ConfigMap", "apps", `${INSTANCE},app.kubernetes.io/component=code`).map((
        c,
      ) => c.metadata.name),
      ["full-featured-code-2.3.0-build.7", "full-featured-code-2.4.0"],
    );
    const undeployed = await undeployWorkflow(client, "full-featured", "apps");
    assert.ok(undeployed.deleted.includes("ClusterRole/pipedreamer-apps-full-featured"));
    assert.deepEqual(kube.all(INSTANCE).map((o) => `${o.kind}/${o.metadata.name}`), []);
    assert.ok(
      kube.get("v1", "Secret", "apps", "shared-slack"),
      "a shared Secret is not the workflow's to delete",
    );
  });
});
