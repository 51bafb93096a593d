/**
 * Canary releases end to end against the fake API server (tests/fake_kube, a test double: no
 * real cluster exists here): the real CLI in a subprocess and real `pipedreamer serve`
 * processes for the live and the canary Deployment (tests/fake_kube/deployed_engine.ts). The
 * live engine reaches the canary's Service by its cluster DNS name through the fake cluster
 * network, and reads the switch ConfigMap the fake kubelet refreshes in place.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FakeKube, startFakeKube } from "./fake_kube/mod.ts";
import { DeployedEngine } from "./fake_kube/deployed_engine.ts";
import { bumpVersion, copyDir, ok, pipedreamerCli } from "./fake_kube/cluster_env.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const TESTDATA = join(ROOT, "tests/testdata/k8s/hello-k8s");
const NAME = "hello-k8s";
const IMAGE = "ghcr.io/acme/hello-k8s:1.0.0";
const IMAGE2 = "ghcr.io/acme/hello-k8s:1.1.0";
const CANARY = `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=canary`;

interface Env {
  kube: FakeKube;
  dir: string;
  tmp: string;
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** POSTs a run through the API server's service proxy (as `pipedreamer run` does). */
  run(input: unknown, headers?: Record<string, string>): Promise<Record<string, unknown>>;
  proxyGet(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function setup(): Promise<Env> {
  const kube = await startFakeKube();
  const tmp = await Deno.makeTempDir({ prefix: "pd-k8s-canary-" });
  const dir = join(tmp, NAME);
  await copyDir(TESTDATA, dir);
  await Deno.writeTextFile(join(dir, ".secrets.yaml"), "slack:\n  token: v1-secret\n");
  const kubeconfig = join(tmp, "kubeconfig");
  await Deno.writeTextFile(kubeconfig, kube.kubeconfig());
  const engines = [NAME, `${NAME}-canary`].map((name) => {
    const engine = new DeployedEngine(kube, "default", name);
    kube.setServiceBackend("default", name, engine.handle);
    return engine;
  });
  const token = () => {
    const secret = kube.get("v1", "Secret", "default", `${NAME}-token`)!;
    return atob((secret.data as Record<string, string>).token!);
  };
  const proxy = `${kube.url}/api/v1/namespaces/default/services/${NAME}:http/proxy`;
  const headers = () => ({
    authorization: `Bearer ${kube.token}`,
    "x-pipedreamer-token": token(),
    "content-type": "application/json",
  });
  return {
    kube,
    dir,
    tmp,
    cli: (...args) => pipedreamerCli(kubeconfig, args),
    run: async (input, extra = {}) => {
      const res = await fetch(`${proxy}/run`, {
        method: "POST",
        body: JSON.stringify(input),
        headers: { ...headers(), ...extra },
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      return body;
    },
    proxyGet: async (path) => {
      const res = await fetch(`${proxy}${path}`, { headers: headers() });
      return { status: res.status, body: await res.json() };
    },
    close: async () => {
      for (const engine of engines) await engine.close();
      await kube.close();
      await Deno.remove(tmp, { recursive: true });
    },
  };
}

function canaryObjects(kube: FakeKube): string[] {
  return kube.all(CANARY).map((o) => `${o.kind}/${o.metadata.name}`).sort();
}

Deno.test("deploy --canary splits new runs exactly, status shows both versions, promote makes it live", async () => {
  const env = await setup();
  try {
    // Bad input first: a share outside 1-99, a canary with nothing deployed.
    for (const bad of ["0", "100", "ten", "12.5"]) {
      const res = await env.cli("deploy", env.dir, "--image", IMAGE, "--canary", bad);
      assert.equal(res.code, 2, res.stderr);
      assert.match(
        res.stderr,
        new RegExp(
          `Cannot use --canary "${
            bad.replace(".", "\\.")
          }": expected a whole percentage from 1 to 99`,
        ),
      );
    }
    const nothing = await env.cli("deploy", env.dir, "--image", IMAGE, "--canary", "10");
    assert.equal(nothing.code, 1);
    assert.match(
      nothing.stderr,
      /Cannot start a canary of "hello-k8s" 1\.0\.0: nothing is deployed in namespace "default"; deploy it first \(without --canary\)/,
    );
    const noPromote = await env.cli("promote", NAME);
    assert.equal(noPromote.code, 1);
    assert.match(
      noPromote.stderr,
      /Cannot promote "hello-k8s": no canary is running in namespace "default"/,
    );

    ok(await env.cli("deploy", env.dir, "--image", IMAGE), "deploy v1");
    const same = await env.cli("deploy", env.dir, "--image", IMAGE, "--canary", "10");
    assert.equal(same.code, 1);
    assert.match(same.stderr, /1\.0\.0 is the live version; bump version in workflow\.yaml/);
    const noCanary = await env.cli("rollback", NAME);
    assert.equal(noCanary.code, 1);
    assert.match(
      noCanary.stderr,
      /Cannot roll back the canary of "hello-k8s": none is running.*pass --version/,
    );

    const liveBefore = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
    const podsBefore = env.kube.list(
      "v1",
      "Pod",
      "default",
      `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=engine`,
    )
      .map((p) => p.metadata.uid);
    await bumpVersion(env.dir, "v2-secret");
    const started = await env.cli("deploy", env.dir, "--image", IMAGE2, "--canary", "10%");
    ok(started, "deploy --canary");
    assert.match(
      started.stdout,
      /canary 1\.1\.0 gets 10% of new runs of hello-k8s \(live 1\.0\.0\)/,
    );
    assert.ok(!`${started.stdout}${started.stderr}`.includes("v2-secret"));
    // The live Deployment and its pod are untouched: no rollout, no Recreate downtime.
    const liveAfter = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
    assert.equal(liveAfter.metadata.generation, liveBefore.metadata.generation);
    assert.deepEqual(liveAfter.spec, liveBefore.spec);
    assert.deepEqual(
      env.kube.list(
        "v1",
        "Pod",
        "default",
        `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=engine`,
      )
        .map((p) => p.metadata.uid),
      podsBefore,
    );
    assert.deepEqual(
      canaryObjects(env.kube),
      [
        "ConfigMap/hello-k8s-canary",
        "ConfigMap/hello-k8s-canary-release",
        "Deployment/hello-k8s-canary",
        "NetworkPolicy/hello-k8s-canary",
        "PersistentVolumeClaim/hello-k8s-canary-data",
        "Pod/" + env.kube.list("v1", "Pod", "default", CANARY)[0]!.metadata.name,
        "ReplicaSet/" + env.kube.list("apps/v1", "ReplicaSet", "default", CANARY)[0]!.metadata.name,
        "Secret/hello-k8s-canary-secrets",
        "Service/hello-k8s-canary",
      ].sort(),
    );

    // 20 new runs through the live Service: exactly 2 (runs 9 and 19) on the canary.
    const versions: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const record = await env.run({ name: `n${i}` });
      versions.push(String(record.version));
      ids.push(String(record.runId));
    }
    assert.deepEqual(
      versions.flatMap((v, i) => v === "1.1.0" ? [i] : []),
      [9, 19],
      `versions: ${versions.join(" ")}`,
    );
    // A forwarded run is readable through the live Service.
    const forwarded = await env.proxyGet(`/runs/${ids[9]}`);
    assert.equal(forwarded.status, 200);
    assert.deepEqual([forwarded.body.version, forwarded.body.result], ["1.1.0", {
      sent: "Hello, dear n9",
    }]);
    // Cron Jobs' runs stay on the live version.
    for (let i = 0; i < 10; i++) {
      const record = await env.run({ name: "cron" }, { "x-pipedreamer-trigger": "cron" });
      assert.deepEqual([record.version, record.trigger], ["1.0.0", "cron"]);
    }
    // One failing run lands on the canary (run 29 of the split): a failure rate there.
    for (let i = 0; i < 10; i++) {
      await env.run(i === 9 ? { fail: true } : { name: "x" }).catch(() => {});
    }

    const status = await env.cli("status", NAME, "-o", "json");
    ok(status, "status");
    const s = JSON.parse(status.stdout);
    assert.equal(s.version, "1.0.0");
    assert.deepEqual(
      [s.canary.version, s.canary.image, s.canary.percent, s.canary.ready],
      ["1.1.0", IMAGE2, 10, true],
    );
    assert.deepEqual(s.canary.routed, { live: 27, canary: 3 });
    assert.deepEqual([s.canary.runs.canary.total, s.canary.runs.canary.failed], [3, 1]);
    assert.equal(s.canary.runs.canary.failureRate, 1 / 3);
    assert.deepEqual([s.canary.runs.live.total, s.canary.runs.live.failed], [37, 0]);
    const text = await env.cli("status", NAME);
    ok(text, "status (text)");
    assert.match(text.stdout, /canary: {4}1\.1\.0 gets 10% of new runs, ready 1\/1/);
    assert.match(text.stdout, /new runs since the canary started: live 27, canary 3/);
    assert.match(text.stdout, /1\.1\.0 +canary +3 finished, 1 failed \(33\.3%\)/);
    assert.match(text.stdout, /1\.0\.0 +live +37 finished, 0 failed \(0\.0%\)/);

    // While it runs: no plain deploy, no rollback to a version.
    const plain = await env.cli("deploy", env.dir, "--image", IMAGE2);
    assert.equal(plain.code, 1);
    assert.match(
      plain.stderr,
      /a canary of version 1\.1\.0 is running.*pipedreamer promote hello-k8s/,
    );
    const toVersion = await env.cli("rollback", NAME, "--version", "1.0.0");
    assert.equal(toVersion.code, 1);
    assert.match(
      toVersion.stderr,
      /a canary is running; end it first with `pipedreamer rollback hello-k8s`/,
    );

    const promoted = await env.cli("promote", NAME);
    ok(promoted, "promote");
    assert.match(
      promoted.stdout,
      /hello-k8s promoted: 1\.1\.0 is live \(was 1\.0\.0\), canary ended/,
    );
    assert.deepEqual(canaryObjects(env.kube), []);
    const live = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
    assert.equal(live.metadata.annotations?.["pipedreamer.dev/version"], "1.1.0");
    const container =
      (live.spec as { template: { spec: { containers: { image: string; args: string[] }[] } } })
        .template.spec.containers[0]!;
    assert.equal(container.image, IMAGE2);
    assert.ok(container.args.includes("--canary-file"), "the live engine keeps its switch");
    const secret = env.kube.get("v1", "Secret", "default", `${NAME}-secrets`)!;
    assert.match(atob((secret.data as Record<string, string>).slack!), /v2-secret/);
    for (let i = 0; i < 5; i++) assert.equal((await env.run({ name: "z" })).version, "1.1.0");
    const after = JSON.parse((await env.cli("status", NAME, "-o", "json")).stdout);
    assert.deepEqual([after.version, after.canary], ["1.1.0", undefined]);
    // A plain deploy of the promoted version changes nothing and is allowed again.
    ok(await env.cli("deploy", env.dir, "--image", IMAGE2), "deploy after promote");
    const again = await env.cli("promote", NAME);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no canary is running/);
  } finally {
    await env.close();
  }
});

Deno.test("rollback during a canary removes it and leaves the live version running untouched", async () => {
  const env = await setup();
  try {
    ok(await env.cli("deploy", env.dir, "--image", IMAGE), "deploy v1");
    await bumpVersion(env.dir, "v2-secret");
    ok(await env.cli("deploy", env.dir, "--image", IMAGE2, "--canary", "50"), "deploy --canary");
    const versions = [];
    for (let i = 0; i < 4; i++) versions.push((await env.run({})).version);
    assert.deepEqual(versions, ["1.0.0", "1.1.0", "1.0.0", "1.1.0"]);
    // A new share for the same canary version: applied in place, a new sequence.
    ok(await env.cli("deploy", env.dir, "--image", IMAGE2, "--canary", "25"), "re-weight");
    const reweighted = [];
    for (let i = 0; i < 4; i++) reweighted.push((await env.run({})).version);
    assert.deepEqual(reweighted, ["1.0.0", "1.0.0", "1.0.0", "1.1.0"]);
    const before = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
    const ended = await env.cli("rollback", NAME);
    ok(ended, "rollback");
    assert.match(ended.stdout, /canary of hello-k8s ended; 1\.0\.0 stays live/);
    assert.deepEqual(canaryObjects(env.kube), []);
    const after = env.kube.get("apps/v1", "Deployment", "default", NAME)!;
    assert.equal(after.metadata.generation, before.metadata.generation);
    assert.deepEqual(after.spec, before.spec);
    for (let i = 0; i < 6; i++) assert.equal((await env.run({})).version, "1.0.0");
    // The canary's code stays a deployed version (versions, a later deploy).
    const listed = JSON.parse((await env.cli("versions", NAME, "-o", "json")).stdout);
    assert.deepEqual(listed.map((v: { version: string }) => v.version), ["1.0.0", "1.1.0"]);

    // A canary that never gets ready: deploy fails on its rollout and never flips the switch.
    const broken = IMAGE2.replace("1.1.0", "1.1.0-broken");
    env.kube.failImagePull(broken);
    const failed = await env.cli("deploy", env.dir, "--image", broken, "--canary", "10");
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /does not exist in its registry/);
    assert.equal(env.kube.get("v1", "ConfigMap", "default", `${NAME}-canary`), undefined);
    for (let i = 0; i < 10; i++) assert.equal((await env.run({})).version, "1.0.0");
    const notReady = await env.cli("status", NAME);
    assert.equal(notReady.code, 1, "a canary that is not ready fails status");
    assert.match(
      notReady.stdout,
      /canary: {4}1\.1\.0 gets no runs \(switch not set\), ready 0\/1 {2}NOT READY/,
    );
    // undeploy removes a canary with everything else.
    ok(await env.cli("undeploy", NAME, "--yes"), "undeploy");
    assert.deepEqual(env.kube.all(`app.kubernetes.io/instance=${NAME}`), []);
  } finally {
    await env.close();
  }
});

Deno.test("deploy --canary --dry-run and --out are byte-identical and add the canary to a GitOps directory", async () => {
  const env = await setup();
  try {
    await bumpVersion(env.dir, "v2-secret");
    const dry = () =>
      env.cli("deploy", env.dir, "--image", IMAGE2, "--canary", "10", "--dry-run", "-o", "yaml");
    const a = await dry();
    ok(a, "dry-run");
    assert.equal((await dry()).stdout, a.stdout);
    assert.equal(env.kube.requests.length, 0, "a dry run talks to no cluster");
    assert.deepEqual(a.stdout.match(/^kind: .*$/gm), [
      "kind: ConfigMap",
      "kind: PersistentVolumeClaim",
      "kind: Service",
      "kind: Deployment",
      "kind: NetworkPolicy",
      "kind: ConfigMap",
      "kind: ConfigMap",
    ]);
    assert.match(a.stderr, /not printed: Secret hello-k8s-canary-secrets/);
    assert.ok(!a.stdout.includes("v2-secret"));

    const out = join(env.tmp, "gitops");
    await Deno.writeTextFile(join(env.dir, "..", "v1.yaml"), "");
    const orphan = await env.cli(
      "deploy",
      env.dir,
      "--image",
      IMAGE2,
      "--canary",
      "10",
      "--out",
      out,
    );
    assert.equal(orphan.code, 1);
    assert.match(
      orphan.stderr,
      /holds no kustomization\.yaml written by `pipedreamer deploy --out`/,
    );
    const v1 = join(env.tmp, "v1");
    await copyDir(TESTDATA, v1);
    ok(await env.cli("deploy", v1, "--image", IMAGE, "--out", out), "--out v1");
    const liveFiles = await files(out);
    ok(
      await env.cli("deploy", env.dir, "--image", IMAGE2, "--canary", "10", "--out", out),
      "--out --canary",
    );
    const withCanary = await files(out);
    ok(
      await env.cli("deploy", env.dir, "--image", IMAGE2, "--canary", "10", "--out", out),
      "again",
    );
    assert.deepEqual(await files(out), withCanary, "byte-identical");
    for (const [file, text] of Object.entries(liveFiles)) {
      if (file !== "kustomization.yaml") assert.equal(withCanary[file], text, `${file} unchanged`);
    }
    assert.ok(withCanary["deployment-hello-k8s-canary.yaml"]);
    assert.match(withCanary["configmap-hello-k8s-canary.yaml"]!, /"percent":10/);
    assert.match(
      withCanary["kustomization.yaml"]!,
      /- deployment-hello-k8s\.yaml[\s\S]*- deployment-hello-k8s-canary\.yaml/,
    );
    // The promotion in git: a plain --out of the new version drops the canary's files.
    ok(await env.cli("deploy", env.dir, "--image", IMAGE2, "--out", out), "--out v2");
    const promoted = await files(out);
    assert.ok(
      !Object.keys(promoted).some((f) => f.includes("canary")),
      Object.keys(promoted).join(" "),
    );
    assert.match(promoted["deployment-hello-k8s.yaml"]!, /hello-k8s:1\.1\.0/);
  } finally {
    await env.close();
  }
});

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) out[e.name] = await Deno.readTextFile(join(dir, e.name));
  return out;
}
