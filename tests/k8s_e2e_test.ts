/**
 * End-to-end tests of the cluster commands: the real CLI in a subprocess, the real
 * `@kubernetes/client-node`, and the fake API server of tests/fake_kube (a test double: no
 * real cluster exists here). The service proxy forwards to a real `pipedreamer serve` started
 * from the deployed Deployment, code ConfigMap, config ConfigMap and token Secret (see
 * tests/fake_kube/deployed_engine.ts).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FakeKube, PullFailure, startFakeKube } from "./fake_kube/mod.ts";
import { DeployedEngine, type EngineCall } from "./fake_kube/deployed_engine.ts";
import { bumpVersion, type CliResult, copyDir, fakeCluster, ok } from "./fake_kube/cluster_env.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const TESTDATA = join(ROOT, "tests/testdata/k8s/hello-k8s");
const NAME = "hello-k8s";
const IMAGE = "ghcr.io/acme/hello-k8s:1.0.0";
const SECRET = "xoxb-super-secret-value";
const INSTANCE = `app.kubernetes.io/instance=${NAME}`;

interface Env {
  kube: FakeKube;
  dir: string;
  kubeconfig: string;
  calls: EngineCall[];
  cli(...args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

/** A fake cluster, a kubeconfig for it, and a copy of the test workflow with a secret. */
async function setup(fakes: FakeKube[] = []): Promise<Env> {
  const cluster = await fakeCluster({ kubes: fakes.length > 0 ? fakes : [await startFakeKube()] });
  const dir = join(cluster.tmp, NAME);
  await copyDir(TESTDATA, dir);
  await Deno.writeTextFile(join(dir, ".secrets.yaml"), `slack:\n  token: ${SECRET}\n`);
  const calls: EngineCall[] = [];
  const engines: DeployedEngine[] = [];
  for (const fake of cluster.kubes) {
    for (const ns of ["default", "team"]) {
      const engine = new DeployedEngine(fake, ns, NAME, calls);
      fake.setServiceBackend(ns, NAME, engine.handle);
      engines.push(engine);
    }
  }
  return {
    kube: cluster.kube,
    dir,
    kubeconfig: cluster.kubeconfig,
    calls,
    cli: cluster.cli,
    close: async () => {
      for (const engine of engines) await engine.close();
      await cluster.close();
    },
  };
}

Deno.test("deploy → status → run → logs → versions → deploy v2 → rollback → undeploy leaves nothing behind", async () => {
  const env = await setup();
  try {
    const deployed = await env.cli("deploy", env.dir, "--image", IMAGE, "-o", "json");
    ok(deployed, "deploy");
    assert.equal(JSON.parse(deployed.stdout).version, "1.0.0");
    assert.match(deployed.stderr, /rollout: 1 of 1 updated, 1 available/);
    assert.ok(
      !`${deployed.stdout}${deployed.stderr}`.includes(SECRET),
      "the secret leaked into the output",
    );

    // What landed in the cluster: secrets as a mounted Secret (never env), hardened pods.
    const secret = env.kube.get("v1", "Secret", "default", `${NAME}-secrets`)!;
    assert.deepEqual(JSON.parse(atob((secret.data as Record<string, string>).slack!)), {
      token: SECRET,
    });
    const dep = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
    assert.ok(!JSON.stringify(dep).includes(SECRET));
    const managers = (dep.metadata.managedFields ?? []).map((m) => m.manager);
    // spec.replicas is co-owned by pipedreamer-replicas (applied without force), so a later
    // deploy leaves it to an autoscaler or a manual scale.
    assert.deepEqual(managers, ["pipedreamer", "pipedreamer-replicas"]);
    assert.ok(
      env.kube.requests.some((r) =>
        r.contentType === "application/apply-patch+yaml" && r.query.fieldManager === "pipedreamer"
      ),
    );

    const status = await env.cli("status", NAME, "-o", "json");
    ok(status, "status");
    const s = JSON.parse(status.stdout);
    assert.deepEqual([s.version, s.ready, s.replicas.ready, s.image], ["1.0.0", true, 1, IMAGE]);

    const run = await env.cli("run", NAME, "--input", '{"name":"Ada"}', "-o", "json");
    ok(run, "run");
    const record = JSON.parse(run.stdout);
    assert.deepEqual([record.status, record.version, record.result], ["succeeded", "1.0.0", {
      sent: "Hello, Ada",
    }]);
    // The engine runs the bundle: its code hash is the one the manifests carry.
    assert.equal(record.codeHash, dep.metadata.annotations?.["pipedreamer.dev/code-hash"]);
    assert.equal(
      record.codeHash,
      (dep.spec as { template: { metadata: { annotations: Record<string, string> } } }).template
        .metadata.annotations["pipedreamer.dev/code-hash"],
    );
    // Through the API server's service proxy, which dropped the caller's Authorization header:
    // the real engine took the token from X-Pipedreamer-Token.
    assert.ok(
      env.kube.requests.some((r) =>
        r.path === `/api/v1/namespaces/default/services/${NAME}:http/proxy/run`
      ),
    );
    assert.equal(env.calls.at(-1)?.authorization, undefined);

    const failedRun = await env.cli("run", NAME, "--input", '{"fail":true}');
    assert.equal(failedRun.code, 1);
    assert.match(failedRun.stderr, /failed: node "greet": asked to fail/);

    const pods = env.kube.list("v1", "Pod", "default", INSTANCE);
    assert.equal(pods.length, 1);
    for (const p of pods) {
      env.kube.appendPodLog(
        "default",
        p.metadata.name,
        `first ${p.metadata.name}`,
        `last ${p.metadata.name}`,
      );
    }
    const logs = await env.cli("logs", NAME, "--tail", "1");
    ok(logs, "logs");
    assert.deepEqual(
      logs.stdout.trim().split("\n"),
      pods.map((p) => p.metadata.name).sort().map((n) => `[${n}] last ${n}`),
    );

    await bumpVersion(env.dir);
    ok(await env.cli("deploy", env.dir, "--image", IMAGE.replace("1.0.0", "1.1.0")), "deploy v2");
    const v2 = JSON.parse(
      (await env.cli("run", NAME, "--input", '{"name":"Ada"}', "-o", "json")).stdout,
    );
    assert.deepEqual([v2.version, v2.result], ["1.1.0", { sent: "Hello, dear Ada" }]);
    const versions = JSON.parse((await env.cli("versions", NAME, "-o", "json")).stdout);
    assert.deepEqual(
      versions.map((v: { version: string; current: boolean }) => [v.version, v.current]),
      [["1.0.0", false], ["1.1.0", true]],
    );
    const diff = await env.cli("versions", NAME, "--diff", "1.0.0", "1.1.0");
    ok(diff, "versions --diff");
    assert.match(diff.stdout, /^-version: "1\.0\.0"$/m);
    assert.match(diff.stdout, /^\+.*dear/m);

    // The documented form: `--version 1.0.0`, not only `--version=1.0.0`.
    const rollback = await env.cli("rollback", NAME, "--version", "1.0.0");
    ok(rollback, "rollback");
    assert.match(rollback.stdout, /rolled back from 1\.1\.0 to 1\.0\.0/);
    const after = JSON.parse((await env.cli("status", NAME, "-o", "json")).stdout);
    assert.deepEqual([after.version, after.image, after.ready], ["1.0.0", IMAGE, true]);
    const back = JSON.parse((await env.cli("run", NAME, "-o", "json")).stdout);
    assert.deepEqual([back.version, back.result], ["1.0.0", { sent: "Hello, world" }]);

    const undeploy = await env.cli("undeploy", NAME, "--yes");
    ok(undeploy, "undeploy");
    assert.deepEqual(env.kube.all(INSTANCE).map((o) => `${o.kind}/${o.metadata.name}`), []);
    assert.ok(env.kube.get("v1", "Namespace", undefined, "default"), "the namespace stays");
    const list = await env.cli("list", "-o", "json");
    assert.deepEqual(JSON.parse(list.stdout), []);
  } finally {
    await env.close();
  }
});

Deno.test("deploy --dry-run prints exactly what deploy applies and touches no cluster", async () => {
  const env = await setup();
  try {
    const tokenFile = join(env.dir, "..", "token");
    await Deno.writeTextFile(tokenFile, "pinned-token-for-the-comparison\n");
    const dry = await env.cli(
      "deploy",
      env.dir,
      "--image",
      IMAGE,
      "--dry-run",
      "-o",
      "json",
      "--token-file",
      tokenFile,
      "--include-secrets",
    );
    ok(dry, "dry-run");
    assert.equal(env.kube.requests.length, 0, "dry-run talked to the cluster");
    const items = JSON.parse(dry.stdout).items as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace?: string };
    }[];
    const yaml = await env.cli(
      "deploy",
      env.dir,
      "--image",
      IMAGE,
      "--dry-run",
      "--token-file",
      tokenFile,
      "--include-secrets",
    );
    assert.equal(yaml.stdout.match(/^kind: /gm)?.length, items.length);

    ok(await env.cli("deploy", env.dir, "--image", IMAGE, "--token-file", tokenFile), "deploy");
    for (const item of items) {
      const live = env.kube.get(
        item.apiVersion,
        item.kind,
        item.metadata.namespace,
        item.metadata.name,
      );
      assert.ok(live, `${item.kind}/${item.metadata.name} was not applied`);
      const { metadata, status: _status, ...rest } = live as Record<string, unknown> & {
        metadata: Record<string, unknown>;
      };
      const { metadata: wantMeta, ...want } = item as Record<string, unknown> & {
        metadata: Record<string, unknown>;
      };
      assert.deepEqual(
        { ...rest, apiVersion: item.apiVersion, kind: item.kind },
        want,
        `${item.kind} differs`,
      );
      assert.deepEqual(metadata.labels, wantMeta.labels);
    }
    const applied = env.kube.requests.filter((r) => r.method === "PATCH").length;
    // Every object, plus spec.replicas under its own field manager (pipedreamer-replicas).
    assert.equal(applied, items.length + 1);
  } finally {
    await env.close();
  }
});

Deno.test("deploy reports an RBAC denial with the verb, the resource and a fix", async () => {
  const env = await setup();
  try {
    env.kube.deny({ verb: "patch", resource: "deployments", group: "apps" });
    const result = await env.cli("deploy", env.dir, "--image", IMAGE);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /cannot patch resource "deployments" in API group "apps" in the namespace "default"/,
    );
    assert.match(result.stderr, /pipedreamer cluster check/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "a stack trace was printed");
    const check = await env.cli("cluster", "check");
    assert.equal(check.code, 1);
    assert.match(check.stdout, /✗ permissions: missing 1 of \d+: patch deployments\.apps/);
  } finally {
    await env.close();
  }
});

for (
  const [failure, expected] of [
    [
      PullFailure.NotFound,
      /image "ghcr\.io\/acme\/hello-k8s:1\.0\.0" does not exist in its registry/,
    ],
    [PullFailure.Unauthorized, /no credentials to pull image "ghcr\.io\/acme\/hello-k8s:1\.0\.0"/],
  ] as const
) {
  Deno.test(`deploy fails clearly when the image cannot be pulled (${failure})`, async () => {
    const env = await setup();
    try {
      env.kube.failImagePull(IMAGE, failure);
      const result = await env.cli("deploy", env.dir, "--image", IMAGE);
      assert.equal(result.code, 1);
      assert.match(result.stderr, expected);
      const status = await env.cli("status", NAME);
      assert.equal(status.code, 1);
      assert.match(status.stdout, /NOT READY/);
      assert.match(status.stdout, /ImagePullBackOff/);
      assert.match(status.stdout, /Warning Failed pod\/hello-k8s-.*Failed to pull image/);
    } finally {
      await env.close();
    }
  });
}

Deno.test("rollback fails fast when that version's ConfigMap is gone", async () => {
  const env = await setup();
  try {
    ok(await env.cli("deploy", env.dir, "--image", IMAGE), "deploy v1");
    await bumpVersion(env.dir);
    ok(await env.cli("deploy", env.dir, "--image", IMAGE), "deploy v2");
    env.kube.remove("v1", "ConfigMap", "default", `${NAME}-code-1.0.0`);
    const before = env.kube.get("apps/v1", "Deployment", "default", NAME)!.metadata.resourceVersion;
    const result = await env.cli("rollback", NAME, "--version=1.0.0");
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /version "1\.0\.0" of "hello-k8s" is not in namespace "default".*deployed versions: "1\.1\.0"/,
    );
    assert.equal(
      env.kube.get("apps/v1", "Deployment", "default", NAME)!.metadata.resourceVersion,
      before,
    );
  } finally {
    await env.close();
  }
});

Deno.test("the runtime config ConfigMap keeps its data across deploys without --runtime-config", async () => {
  const env = await setup();
  try {
    const file = join(env.dir, "..", "runtime.yaml");
    await Deno.writeTextFile(file, "greeting: Howdy\n");
    ok(
      await env.cli("deploy", env.dir, "--image", IMAGE, "--runtime-config", file),
      "deploy with runtime config",
    );
    const data = () => env.kube.get("v1", "ConfigMap", "default", `${NAME}-config`)?.data;
    assert.deepEqual(data(), { "config.yaml": "greeting: Howdy\n" });
    // The engine merges the mounted runtime config over the workflow's config.
    const run = await env.cli("run", NAME, "--input", '{"name":"Ada"}', "-o", "json");
    ok(run, "run");
    assert.deepEqual(JSON.parse(run.stdout).result, { sent: "Howdy, Ada" });
    ok(await env.cli("deploy", env.dir, "--image", IMAGE), "deploy without runtime config");
    assert.deepEqual(data(), { "config.yaml": "greeting: Howdy\n" });
    await Deno.writeTextFile(file, "greeting: Hi\n");
    ok(
      await env.cli("deploy", env.dir, "--image", IMAGE, "--runtime-config", file),
      "deploy with a new runtime config",
    );
    assert.deepEqual(data(), { "config.yaml": "greeting: Hi\n" });
  } finally {
    await env.close();
  }
});

Deno.test("deploy into a missing namespace needs --create-namespace", async () => {
  const env = await setup();
  try {
    const result = await env.cli("deploy", env.dir, "--image", IMAGE, "-n", "team");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /namespace "team" does not exist; pass --create-namespace/);
    assert.equal(env.kube.get("v1", "Namespace", undefined, "team"), undefined);
    ok(
      await env.cli("deploy", env.dir, "--image", IMAGE, "-n", "team", "--create-namespace"),
      "deploy --create-namespace",
    );
    assert.ok(env.kube.get("v1", "Namespace", undefined, "team"));
    assert.ok(env.kube.get("apps/v1", "Deployment", "team", NAME));
  } finally {
    await env.close();
  }
});

Deno.test("deploy, status and list operate several contexts at once", async () => {
  const env = await setup([await startFakeKube(), await startFakeKube()]);
  try {
    ok(
      await env.cli(
        "deploy",
        env.dir,
        "--image",
        IMAGE,
        "--context",
        "fake-0",
        "--context",
        "fake-1",
      ),
      "deploy x2",
    );
    const list = await env.cli("list", "--all-contexts", "-o", "json");
    ok(list, "list");
    assert.deepEqual(
      JSON.parse(list.stdout).map((w: { context: string; name: string }) =>
        `${w.context}/${w.name}`
      ),
      [
        `fake-0/${NAME}`,
        `fake-1/${NAME}`,
      ],
    );
    const status = await env.cli("status", NAME, "--all-contexts", "-o", "json");
    assert.deepEqual(JSON.parse(status.stdout).map((s: { ready: boolean }) => s.ready), [
      true,
      true,
    ]);
  } finally {
    await env.close();
  }
});

Deno.test("cluster check names each problem with a fix, and --fix creates the namespace", async () => {
  const env = await setup([await startFakeKube({ runtimeClasses: [] })]);
  try {
    const check = await env.cli("cluster", "check", "-n", "team");
    assert.equal(check.code, 1);
    assert.match(check.stdout, /✓ api: reachable/);
    assert.match(check.stdout, /✗ namespace: namespace "team" does not exist\n\s+fix: create it/);
    assert.match(
      check.stdout,
      /✗ runtimeclass: RuntimeClass "gvisor" does not exist.*\n\s+fix: install gVisor/,
    );
    const fixed = await env.cli("cluster", "check", "-n", "team", "--fix", "-o", "json");
    const report = JSON.parse(fixed.stdout);
    assert.equal(report.checks.find((c: { name: string }) => c.name === "namespace").fixed, true);
    assert.equal(
      env.kube.get("node.k8s.io/v1", "RuntimeClass", undefined, "gvisor"),
      undefined,
      "--fix must not create a RuntimeClass",
    );
    assert.equal(fixed.code, 1, "the RuntimeClass is still missing");
  } finally {
    await env.close();
  }
});

Deno.test("every cluster command has --help", async () => {
  const env = await setup();
  try {
    for (
      const command of [
        "deploy",
        "status",
        "run",
        "logs",
        "list",
        "undeploy",
        "versions",
        "rollback",
        "promote",
        "cluster check",
      ]
    ) {
      const result = await env.cli(...command.split(" "), "--help");
      ok(result, `${command} --help`);
      assert.match(result.stdout, new RegExp(`^Usage: pipedreamer ${command}`));
    }
  } finally {
    await env.close();
  }
});
