/**
 * End-to-end tests of running in a cluster for real: the durable run store (a pod deleted
 * mid-run, the run finishes in the next pod), replicas left to whoever scaled them, GitOps
 * output (byte-identical dry runs, no secret values, `--out`), the token created once and
 * never rotated, and the kubeconfig context's namespace. The real CLI in a subprocess, the
 * real `@kubernetes/client-node`, the fake API server of tests/fake_kube (a test double: no
 * real cluster exists here) and a real `pipedreamer serve` behind its service proxy.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import type { FakeKube } from "./fake_kube/mod.ts";
import { DeployedEngine } from "./fake_kube/deployed_engine.ts";
import { copyDir, fakeCluster, ok, pipedreamerCli } from "./fake_kube/cluster_env.ts";
import { CallbackServer, sseReader } from "./_serve.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DURABLE = join(ROOT, "tests/testdata/k8s/durable-k8s");
const GATED = join(ROOT, "tests/testdata/gated");
const HELLO = join(ROOT, "tests/testdata/k8s/hello-k8s");
const SECRET = "xoxb-super-secret-value";

/** A fake cluster with a kubeconfig (its context's namespace may be set) and a temp dir. */
function cluster(options: { contextNamespace?: string } = {}) {
  return fakeCluster({
    kube: { namespaces: ["default", "team", "kube-system"] },
    contextNamespace: options.contextNamespace,
    prefix: "pd-k8s-durable-",
  });
}

/**
 * The durable-k8s project in `tmp`: the gated project's node file (one copy for the server and
 * the cluster tests) under durable-k8s's own workflow.yaml.
 */
async function durableProject(tmp: string): Promise<string> {
  const dir = join(tmp, "durable-k8s");
  await copyDir(GATED, dir);
  await Deno.copyFile(join(DURABLE, "workflow.yaml"), join(dir, "workflow.yaml"));
  return dir;
}

function tokenOf(kube: FakeKube, namespace: string, name: string): string {
  const secret = kube.get("v1", "Secret", namespace, `${name}-token`);
  return atob((secret!.data as Record<string, string>).token!);
}

Deno.test("a pod deleted mid-run: the run finishes in the next pod from the PVC, completed nodes are not re-run", async () => {
  await using env = await cluster();
  await using callback = new CallbackServer();
  const name = "durable-k8s";
  const engine = new DeployedEngine(env.kube, "default", name);
  env.kube.setServiceBackend("default", name, engine.handle);
  try {
    const runtime = join(env.tmp, "runtime.yaml");
    await Deno.writeTextFile(runtime, `callbackUrl: ${callback.url}\n`);
    ok(
      await env.cli(
        "deploy",
        await durableProject(env.tmp),
        "--image",
        "ghcr.io/acme/durable-k8s:1.0.0",
        "--bundle",
        "source",
        "--runtime-config",
        runtime,
      ),
      "deploy",
    );
    const dep = env.kube.get("apps/v1", "Deployment", "default", name)!;
    const spec = dep.spec as { strategy: unknown };
    assert.deepEqual(spec.strategy, { type: "Recreate" });
    const claim = env.kube.get("v1", "PersistentVolumeClaim", "default", `${name}-data`)!;
    assert.equal((claim.status as { phase: string }).phase, "Bound");
    assert.deepEqual(
      (claim.spec as { resources: unknown }).resources,
      { requests: { storage: "2Gi" } },
    );

    callback.hold("middle");
    const started = await env.cli("run", name, "--async", "-o", "json");
    ok(started, "run --async");
    const runId = JSON.parse(started.stdout).runId as string;
    await callback.waitForCall("middle", 1, runId);

    // The pod goes (a reschedule, a node drain): its replacement mounts the same claim.
    const [pod] = env.kube.list("v1", "Pod", "default", `app.kubernetes.io/instance=${name}`);
    env.kube.remove("v1", "Pod", "default", pod!.metadata.name);
    env.kube.settle("default", name);
    const [next] = env.kube.list("v1", "Pod", "default", `app.kubernetes.io/instance=${name}`);
    assert.notEqual(next!.metadata.name, pod!.metadata.name);
    assert.equal(
      env.kube.get("v1", "PersistentVolumeClaim", "default", `${name}-data`)?.metadata.uid,
      claim.metadata.uid,
      "the claim outlives the pod",
    );
    const token = tokenOf(env.kube, "default", name);
    // The first request after the deletion stops the old pod's engine (SIGTERM: it drains for
    // deployment.grace, then hands the still running run over) and starts the new pod's on the
    // same volume, which resumes it.
    const switched = await engine.handle(
      new Request(`http://engine/runs/${runId}`, { headers: { "x-pipedreamer-token": token } }),
    );
    assert.equal(switched.status, 200);
    await switched.body?.cancel();
    await callback.waitForCall("middle", 2, runId);
    callback.release("middle");
    const headers = { "x-pipedreamer-token": token, accept: "text/event-stream" };
    const frames = sseReader(
      await engine.handle(new Request(`http://engine/runs/${runId}/logs`, { headers })),
    );
    let end: { status?: string } | undefined;
    for (let f = await frames.next(); f; f = await frames.next()) {
      if (f.event === "end") end = f.data as { status?: string };
    }
    assert.equal(end?.status, "succeeded", JSON.stringify(end));
    assert.equal(callback.count("first", runId), 1, "the completed node ran again");
    assert.equal(callback.count("middle", runId), 2, "the interrupted node runs again");
    assert.equal(callback.count("last", runId), 1);
    assert.match(engine.stderr(), /recovered 1 running and 0 queued runs from the store/);
  } finally {
    await engine.close();
  }
});

Deno.test("deploy leaves replicas to whoever scaled them, and never rotates the API token", async () => {
  await using env = await cluster();
  const dir = join(env.tmp, "hello-k8s");
  await copyDir(HELLO, dir);
  const image = "ghcr.io/acme/hello-k8s:1.0.0";
  ok(await env.cli("deploy", dir, "--image", image, "--no-wait"), "deploy 1");
  const replicas = () =>
    (env.kube.get("apps/v1", "Deployment", "default", "hello-k8s")!.spec as { replicas: number })
      .replicas;
  assert.equal(replicas(), 1);
  const token = tokenOf(env.kube, "default", "hello-k8s");
  assert.match(token, /^[0-9a-f]{64}$/);

  // A manual scale (kubectl scale and an HPA write replicas as their own field manager).
  const scaled = await fetch(
    `${env.kube.url}/apis/apps/v1/namespaces/default/deployments/hello-k8s?fieldManager=kubectl`,
    {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${env.kube.token}`,
        "content-type": "application/merge-patch+json",
      },
      body: JSON.stringify({ spec: { replicas: 4 } }),
    },
  );
  assert.equal(scaled.status, 200, await scaled.text());

  const yaml = await Deno.readTextFile(join(dir, "workflow.yaml"));
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    yaml.replace('version: "1.0.0"', 'version: "1.1.0"'),
  );
  const second = await env.cli("deploy", dir, "--image", image, "--no-wait");
  ok(second, "deploy 2");
  assert.equal(replicas(), 4, "deploy reset a manual scale");
  assert.match(second.stderr, /replicas left at 4: owned by "kubectl"/);
  const managers = (env.kube.get("apps/v1", "Deployment", "default", "hello-k8s")!.metadata
    .managedFields ?? []).map((m) => m.manager).sort();
  assert.ok(managers.includes("kubectl") && managers.includes("pipedreamer"), managers.join());
  assert.equal(tokenOf(env.kube, "default", "hello-k8s"), token, "deploy rotated the token");
  assert.doesNotMatch(second.stderr, /created secret/);
});

Deno.test("deploy --dry-run is byte-identical, prints no secret value, and --out writes a kustomization", async () => {
  await using env = await cluster();
  const dir = join(env.tmp, "hello-k8s");
  await copyDir(HELLO, dir);
  await Deno.writeTextFile(join(dir, ".secrets.yaml"), `slack:\n  token: ${SECRET}\n`);
  const args = ["deploy", dir, "--image", "ghcr.io/acme/hello-k8s:1.0.0", "--dry-run"];
  const a = await env.cli(...args, "-o", "yaml");
  const b = await env.cli(...args, "-o", "yaml");
  ok(a, "dry run");
  assert.equal(a.stdout, b.stdout, "two dry runs differ");
  assert.ok(!a.stdout.includes(SECRET) && !a.stdout.includes(btoa(SECRET).slice(0, 12)));
  assert.doesNotMatch(a.stdout, /^kind: Secret$/m);
  assert.match(a.stderr, /not printed: Secret hello-k8s-secrets/);
  assert.match(a.stderr, /not in the manifests: Secret hello-k8s-token/);
  assert.equal(env.kube.requests.filter((r) => r.method !== "GET").length, 0);

  const withSecrets = await env.cli(...args, "-o", "json", "--include-secrets");
  const items = JSON.parse(withSecrets.stdout).items as {
    kind: string;
    metadata: { name: string };
  }[];
  assert.deepEqual(items.filter((o) => o.kind === "Secret").map((o) => o.metadata.name), [
    "hello-k8s-secrets",
  ]);

  const out = join(env.tmp, "gitops");
  const written = await env.cli(
    "deploy",
    dir,
    "--image",
    "ghcr.io/acme/hello-k8s:1.0.0",
    "--out",
    out,
  );
  ok(written, "--out");
  const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  const kustomization = parse(await Deno.readTextFile(join(out, "kustomization.yaml")));
  assert.equal(kustomization.kind, "Kustomization");
  assert.deepEqual([...kustomization.resources, "kustomization.yaml"].sort(), files);
  assert.ok(files.includes("deployment-hello-k8s.yaml"));
  assert.ok(files.includes("persistentvolumeclaim-hello-k8s-data.yaml"));
  assert.ok(!files.some((f) => f.startsWith("secret-")));
  const fromFiles = kustomization.resources.map((f: string) =>
    parse(Deno.readTextFileSync(join(out, f)))
  );
  const printed = a.stdout.split(/^---\n/m).filter((d) => d.trim()).map((d) => parse(d));
  assert.deepEqual(fromFiles, printed, "--out and --dry-run differ");

  // A cron trigger removed: its file goes too; other files in the directory stay.
  await Deno.writeTextFile(join(out, "README.md"), "mine\n");
  const yaml = await Deno.readTextFile(join(dir, "workflow.yaml"));
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    yaml.replace(/ {2}- type: cron\n {4}schedule: .*\n {4}input: .*\n/, ""),
  );
  ok(
    await env.cli("deploy", dir, "--image", "ghcr.io/acme/hello-k8s:1.0.0", "--out", out),
    "--out again",
  );
  const after = [...Deno.readDirSync(out)].map((e) => e.name);
  assert.ok(!after.some((f) => f.startsWith("cronjob-")), after.join(" "));
  assert.ok(after.includes("README.md"));
});

Deno.test("the kubeconfig context's namespace is used when -n is not given", async () => {
  await using env = await cluster({ contextNamespace: "team" });
  const dir = join(env.tmp, "hello-k8s");
  await copyDir(HELLO, dir);
  ok(
    await env.cli("deploy", dir, "--image", "ghcr.io/acme/hello-k8s:1.0.0", "--no-wait"),
    "deploy",
  );
  assert.ok(env.kube.get("apps/v1", "Deployment", "team", "hello-k8s"));
  assert.equal(env.kube.get("apps/v1", "Deployment", "default", "hello-k8s"), undefined);
  const dry = await env.cli("deploy", dir, "--image", "x.io/a/b:1", "--dry-run", "-o", "json");
  assert.ok(
    JSON.parse(dry.stdout).items.every((o: { metadata: { namespace?: string } }) =>
      o.metadata.namespace === undefined || o.metadata.namespace === "team"
    ),
  );
  const list = JSON.parse((await env.cli("list", "-o", "json")).stdout);
  assert.deepEqual(list.map((w: { namespace: string }) => w.namespace), ["team"]);
  const explicit = await env.cli("list", "-n", "default", "-o", "json");
  assert.deepEqual(JSON.parse(explicit.stdout), []);
});

Deno.test("cluster check requires a default StorageClass for the SQLite volume", async () => {
  await using env = await fakeCluster({ kube: { storageClasses: { slow: false } } });
  const check = await env.cli("cluster", "check");
  assert.equal(check.code, 1);
  assert.match(check.stdout, /✗ storageclass: no default StorageClass \(there are "slow"\)/);
  assert.match(check.stdout, /fix: set deployment\.storage\.storageClass/);
});

Deno.test("the cron Job's command waits for the run and fails when the run fails, under one idempotency key", async () => {
  const seen: { path: string; key: string | null; trigger: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push({
      path: new URL(req.url).pathname,
      key: req.headers.get("idempotency-key"),
      trigger: req.headers.get("x-pipedreamer-trigger"),
    });
    return Response.json({
      runId: "r-1",
      workflow: "hello-k8s",
      version: "1.0.0",
      status: "failed",
      error: { node: "greet", message: "asked to fail" },
      nodes: {},
    }, { status: 422 });
  });
  const tmp = await Deno.makeTempDir();
  try {
    const token = join(tmp, "token");
    await Deno.writeTextFile(token, "t\n");
    // The CronJob's args, with the kubelet's $(JOB_NAME) expansion done.
    const result = await pipedreamerCli(join(tmp, "none"), [
      "run",
      "hello-k8s",
      "--url",
      `http://127.0.0.1:${server.addr.port}`,
      "--token-file",
      token,
      "--timeout",
      "3600s",
      "--idempotency-key",
      "hello-k8s-cron-29412345",
      "--trigger",
      "cron",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Run r-1 failed: node "greet": asked to fail/);
    // A cron run: recorded as such, and never sent to a canary by the live engine.
    assert.deepEqual(seen, [{ path: "/run", key: "hello-k8s-cron-29412345", trigger: "cron" }]);
  } finally {
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deploy pins the image build --push pushed by its digest (IfNotPresent)", async () => {
  await using env = await cluster();
  const dir = join(env.tmp, "hello-k8s");
  await copyDir(HELLO, dir);
  const digest = `sha256:${"c".repeat(64)}`;
  await Deno.mkdir(join(dir, ".pipedreamer"));
  await Deno.writeTextFile(
    join(dir, ".pipedreamer/build.json"),
    JSON.stringify({ image: "ghcr.io/acme/hello-k8s:1.0.0", digest, version: "1.0.0" }),
  );
  const dry = await env.cli("deploy", dir, "-r", "ghcr.io/acme", "--dry-run", "-o", "json");
  ok(dry, "dry run");
  const dep = JSON.parse(dry.stdout).items.find((o: { kind: string }) => o.kind === "Deployment");
  const c = dep.spec.template.spec.containers[0];
  assert.deepEqual([c.image, c.imagePullPolicy], [
    `ghcr.io/acme/hello-k8s:1.0.0@${digest}`,
    "IfNotPresent",
  ]);
  assert.match(dry.stderr, /Pinning ghcr\.io\/acme\/hello-k8s:1\.0\.0 by digest/);
  // An explicit other image is used as given.
  const other = await env.cli("deploy", dir, "--image", "x.io/a/b:2", "--dry-run", "-o", "json");
  const dep2 = JSON.parse(other.stdout).items.find((o: { kind: string }) =>
    o.kind === "Deployment"
  );
  assert.equal(dep2.spec.template.spec.containers[0].image, "x.io/a/b:2");
});

Deno.test("code over 900 KiB deploys from the image (no code volume), and rollback moves between both kinds", async () => {
  await using env = await cluster();
  const dir = join(env.tmp, "hello-k8s");
  await copyDir(HELLO, dir);
  const deploy = (version: string) =>
    env.cli(
      "deploy",
      dir,
      "--image",
      `ghcr.io/acme/hello-k8s:${version}`,
      "--bundle",
      "source",
      "--no-wait",
    );
  const pod = () =>
    (env.kube.get("apps/v1", "Deployment", "default", "hello-k8s")!.spec as {
      template: {
        spec: {
          volumes: { name: string; configMap?: { name: string } }[];
          containers: { image: string; volumeMounts: { name: string; mountPath: string }[] }[];
        };
      };
    }).template.spec;
  const codeMount = () =>
    pod().containers[0]!.volumeMounts.find((m) => m.mountPath === "/app/workflow");
  ok(await deploy("1.0.0"), "deploy 1.0.0");
  assert.equal(codeMount()?.name, "workflow");

  // 2.0.0 carries a 1 MiB data file next to its nodes: more than a ConfigMap holds.
  await Deno.writeTextFile(join(dir, "nodes/table.txt"), "x".repeat(1024 * 1024));
  const yaml = await Deno.readTextFile(join(dir, "workflow.yaml"));
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    yaml.replace('version: "1.0.0"', 'version: "2.0.0"'),
  );
  ok(await deploy("2.0.0"), "deploy 2.0.0 (code in the image)");
  const code = env.kube.get("v1", "ConfigMap", "default", "hello-k8s-code-2.0.0")!;
  assert.equal(code.data, undefined);
  assert.equal(code.metadata.annotations?.["pipedreamer.dev/code-source"], "image");
  assert.equal(codeMount(), undefined, "the image's /app/workflow must not be covered");
  assert.ok(!pod().volumes.some((v) => v.name === "workflow"));
  assert.equal(pod().containers[0]!.image, "ghcr.io/acme/hello-k8s:2.0.0");

  ok(await env.cli("rollback", "hello-k8s", "--version", "1.0.0", "--no-wait"), "rollback");
  assert.equal(codeMount()?.name, "workflow");
  assert.equal(
    pod().volumes.find((v) => v.name === "workflow")?.configMap?.name,
    "hello-k8s-code-1.0.0",
  );
  ok(await env.cli("rollback", "hello-k8s", "--version", "2.0.0", "--no-wait"), "roll forward");
  assert.equal(codeMount(), undefined);
  assert.ok(!pod().volumes.some((v) => v.name === "workflow"));
  assert.equal(pod().containers[0]!.image, "ghcr.io/acme/hello-k8s:2.0.0");
});

Deno.test("deploy stops early when the run store's claim cannot bind (no default StorageClass)", async () => {
  await using env = await fakeCluster({ kube: { storageClasses: { slow: false } } });
  const result = await env.cli(
    "deploy",
    HELLO,
    "--image",
    "ghcr.io/acme/hello-k8s:1.0.0",
    "--bundle",
    "source",
    "--timeout",
    "10m",
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /PersistentVolumeClaim "hello-k8s-data" \(the run store\) stays Pending: the cluster has no default StorageClass; set deployment\.storage\.storageClass \(slow\)/,
  );
});
