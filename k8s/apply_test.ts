import assert from "node:assert/strict";
import { loadWorkflow } from "../engine/mod.ts";
import { FakeClock } from "../testing/mod.ts";
import { type FakeKube, PullFailure, startFakeKube } from "../tests/fake_kube/mod.ts";
import { applyManifests, describePullFailure, waitForRollout } from "./apply.ts";
import { generateManifests, type KubeObject } from "./generate_manifests.ts";
import { KubeApiError, loadKubeClient } from "./kube_client.ts";
import { collectWorkflowFiles } from "./workflow_files.ts";

async function withCluster(
  fn: (
    kube: FakeKube,
    client: ReturnType<typeof loadKubeClient>,
    objects: KubeObject[],
  ) => Promise<void>,
) {
  const kube = await startFakeKube();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config`, kube.kubeconfig());
    const client = loadKubeClient({ kubeconfig: `${dir}/config` });
    const workflow = await loadWorkflow(new URL("./testdata/minimal", import.meta.url).pathname);
    const objects = generateManifests(workflow, {
      namespace: "default",
      image: "ghcr.io/acme/minimal:1.0.0",
      files: await collectWorkflowFiles(workflow),
      token: "t",
    });
    await fn(kube, client, objects);
  } finally {
    await kube.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Advances the fake clock each time the waiter sleeps, until `promise` settles. */
async function drive<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  const done = promise.finally(() => settled = true);
  while (!settled) {
    await Promise.race([clock.waitForSleepers(1), done.catch(() => {})]);
    if (!settled) await clock.advance(1000);
  }
  return await done;
}

Deno.test("applyManifests() server-side applies every object with the pipedreamer field manager", async () => {
  await withCluster(async (kube, client, objects) => {
    const applied: string[] = [];
    await applyManifests(client, objects, { onApplied: (o) => applied.push(o.kind) });
    assert.deepEqual(applied, objects.map((o) => o.kind));
    const patches = kube.requests.filter((r) => r.method === "PATCH");
    assert.equal(patches.length, objects.length);
    for (const p of patches) {
      assert.equal(p.contentType, "application/apply-patch+yaml");
      assert.deepEqual([p.query.fieldManager, p.query.force, p.query.fieldValidation], [
        "pipedreamer",
        "true",
        "Strict",
      ]);
    }
    assert.equal(
      kube.get("apps/v1", "Deployment", "default", "minimal")?.metadata.managedFields?.[0]?.manager,
      "pipedreamer",
    );
  });
});

Deno.test("waitForRollout() reports progress until every replica is updated and available", async () => {
  await withCluster(async (_kube, client, objects) => {
    await applyManifests(client, objects);
    const clock = new FakeClock();
    const progress: string[] = [];
    await drive(
      clock,
      waitForRollout(client, "default", "minimal", { clock, onProgress: (m) => progress.push(m) }),
    );
    assert.deepEqual(progress, ["1 of 1 updated, 0 available", "1 of 1 updated, 1 available"]);
    assert.deepEqual(clock.sleeps, [1000]);
  });
});

Deno.test("waitForRollout() gives up at the timeout and says how far it got", async () => {
  await withCluster(async (kube, client, objects) => {
    kube.pauseRollouts();
    await applyManifests(client, objects);
    const clock = new FakeClock();
    await assert.rejects(
      drive(
        clock,
        waitForRollout(client, "default", "minimal", { clock, timeoutMs: 5000, pollMs: 1000 }),
      ),
      /Cannot roll out "minimal": not ready after 5s \(waiting for the Deployment controller to pick up the new version\); see `pipedreamer status minimal --detail` or raise --timeout/,
    );
    assert.deepEqual(clock.sleeps, [1000, 1000, 1000, 1000, 1000]);
  });
});

Deno.test("waitForRollout() fails fast on an image that cannot be pulled", async () => {
  await withCluster(async (kube, client, objects) => {
    kube.failImagePull("ghcr.io/acme/minimal:1.0.0", PullFailure.NotFound);
    await applyManifests(client, objects);
    const clock = new FakeClock();
    await assert.rejects(
      drive(clock, waitForRollout(client, "default", "minimal", { clock })),
      /image "ghcr\.io\/acme\/minimal:1\.0\.0" does not exist in its registry \(ImagePullBackOff: Failed to pull image/,
    );
    assert.ok(clock.sleeps.length <= 2, "it kept waiting for a rollout that cannot succeed");
  });
});

Deno.test("applyManifests() surfaces an RBAC denial as a 403 KubeApiError naming the verb", async () => {
  await withCluster(async (kube, client, objects) => {
    kube.deny({ verb: "patch", resource: "services" });
    const error = await applyManifests(client, objects).catch((e) => e);
    assert.ok(error instanceof KubeApiError);
    assert.equal(error.status, 403);
    assert.equal(error.retryable, false);
    assert.match(
      error.message,
      /^Cannot patch services "minimal" in namespace "default": services "minimal" is forbidden: User "tester" cannot patch resource "services"/,
    );
  });
});

for (
  const [label, message, expected] of [
    [
      "missing image",
      'Failed to pull image "r/x:1": rpc error: code = NotFound desc = r/x:1: not found',
      /does not exist in its registry/,
    ],
    [
      "manifest unknown",
      'Failed to pull image "r/x:1": manifest unknown',
      /does not exist in its registry/,
    ],
    [
      "401",
      'Failed to pull image "r/x:1": unexpected status: 401 Unauthorized',
      /no credentials to pull/,
    ],
    [
      "no basic auth",
      'Failed to pull image "r/x:1": no basic auth credentials',
      /no credentials to pull/,
    ],
    [
      "other",
      'Failed to pull image "r/x:1": i/o timeout',
      /cannot pull image "r\/x:1" \(ErrImagePull: Failed to pull/,
    ],
  ] as const
) {
  Deno.test(`describePullFailure() tells a missing image from missing credentials (${label})`, () => {
    const text = describePullFailure("x", "r/x:1", "ErrImagePull", [{
      type: "Warning",
      reason: "Failed",
      message,
    }]);
    assert.match(text, expected);
    assert.match(text, /^Cannot roll out "x": /);
  });
}
