/**
 * `ctx.k8s` end to end: the real CLI in a subprocess, with fixtures (k8s's `createK8sMock`
 * guarded by each node's rules) and, for `test --live` and `exec`, the real client talking to
 * the fake API server of tests/fake_kube (a test double: no cluster exists here).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Context, K8sHostTransport } from "../engine/mod.ts";
import type { K8sApi, K8sTransport } from "../k8s/mod.ts";
import { assertExit, cli, type CliResult, stdoutJson, tempDir } from "./_cli.ts";
import { type FakeKube, startFakeKube } from "./fake_kube/mod.ts";

const WORKFLOW = "tests/testdata/k8s-ctx";

/** A fake cluster with `nodes` and one pod in "team", and the CLI with a kubeconfig for it. */
async function withCluster(
  nodes: Record<string, boolean>,
  fn: (kube: FakeKube, run: (...args: string[]) => Promise<CliResult>) => Promise<void>,
): Promise<void> {
  await using tmp = await tempDir();
  const kube = await startFakeKube({ nodes, namespaces: ["default", "team"] });
  try {
    kube.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "api-0", namespace: "team" },
      spec: { containers: [{ name: "api", image: "ghcr.io/acme/api:1" }] },
    });
    const kubeconfig = join(tmp.path, "kubeconfig");
    await Deno.writeTextFile(kubeconfig, kube.kubeconfig());
    await fn(kube, (...args) => cli(args, { env: { KUBECONFIG: kubeconfig } }));
  } finally {
    await kube.close();
  }
}

function lines(result: CliResult): string[] {
  return result.stdout.replace(/ \(\d+ms\)/g, "").trimEnd().split("\n");
}

Deno.test("the engine's ctx.k8s and transport types are k8s's K8sApi and K8sTransport", () => {
  type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;
  const api: Same<NonNullable<Context["k8s"]>, K8sApi> = true;
  const transport: Same<K8sHostTransport, K8sTransport> = true;
  assert.deepEqual([api, transport], [true, true]);
});

Deno.test("`pipedreamer test` answers ctx.k8s from fixtures, naming unmatched calls and denials", async () => {
  const result = await cli(["test", WORKFLOW], { env: { KUBECONFIG: "/nonexistent" } });
  assertExit(result, 1);
  assert.deepEqual(lines(result), [
    "✓ fixtures/list-nodes",
    "✗ fixtures/list-nodes.unmatched",
    `    unmatched k8s request: GET /api/v1/nodes; add it to the fixture's "k8s" list or run ` +
    "with --live",
    "✓ fixtures/no-k8s",
    "✗ fixtures/read-secrets",
    '    failed: node "read-secrets": Cannot list secrets: not granted by capabilities.k8s; ' +
    "add k8s: [{ resources: [secrets], verbs: [list] }]",
    "2 passed, 2 failed",
  ]);
});

Deno.test("`pipedreamer test --live` gives ctx.k8s the kubeconfig's cluster, still within the rules", async () => {
  await withCluster({ "fake-node-1": true }, async (kube, run) => {
    const result = await run("test", WORKFLOW, "--live");
    assertExit(result, 1);
    // list-nodes.unmatched passes: the cluster answers what its "k8s" list does not.
    assert.deepEqual(lines(result), [
      "✓ fixtures/list-nodes",
      "✓ fixtures/list-nodes.unmatched",
      "✓ fixtures/no-k8s",
      "✗ fixtures/read-secrets",
      '    failed: node "read-secrets": Cannot list secrets: not granted by capabilities.k8s; ' +
      "add k8s: [{ resources: [secrets], verbs: [list] }]",
      "3 passed, 1 failed",
    ]);
    const paths = kube.requests.map((r) => `${r.method} ${r.path}`);
    assert.equal(paths.filter((p) => p === "GET /api/v1/nodes").length, 2);
    assert.ok(!paths.some((p) => p.includes("secrets")), paths.join("\n"));
  });
});

Deno.test("`pipedreamer exec` gives ctx.k8s the kubeconfig's cluster (examples/cluster-health)", async () => {
  await withCluster({ "node-a": true, "node-b": false }, async (_kube, run) => {
    const result = await run("exec", "examples/cluster-health", "-o", "json");
    assertExit(result, 0);
    // node-b is NotReady; the fake API server keeps no pod status, so api-0 reads as Unknown.
    assert.deepEqual(stdoutJson<{ result: unknown }>(result).result, {
      healthy: false,
      nodes: { total: 2, notReady: ["node-b"] },
      pods: { total: 1, unhealthy: ["team/api-0"] },
    });
  });
});

Deno.test("`pipedreamer exec -n` sets ctx.k8s.namespace, where scope: namespace rules apply", async () => {
  await withCluster({ "fake-node-1": true }, async (_kube, run) => {
    const team = await run("exec", WORKFLOW, "--target", "own-pods", "-n", "team", "-o", "json");
    assertExit(team, 0);
    assert.deepEqual(stdoutJson<{ result: unknown }>(team).result, {
      namespace: "team",
      pods: ["api-0"],
    });
    const byDefault = await run("exec", WORKFLOW, "--target", "own-pods", "-o", "json");
    assertExit(byDefault, 0);
    assert.deepEqual(stdoutJson<{ result: unknown }>(byDefault).result, {
      namespace: "default",
      pods: [],
    });
  });
});

Deno.test("`pipedreamer exec`: a node without capabilities.k8s has no ctx.k8s and no network to the API server", async () => {
  await withCluster({ "fake-node-1": true }, async (kube, run) => {
    const plain = await run("exec", WORKFLOW, "--target", "no-k8s", "-o", "json");
    assertExit(plain, 0);
    assert.deepEqual(stdoutJson<{ result: unknown }>(plain).result, { k8s: false });
    const input = JSON.stringify({ url: `${kube.url}/api/v1/secrets` });
    const denied = await run("exec", WORKFLOW, "--target", "no-k8s", "--input", input);
    assertExit(denied, 1);
    const host = new URL(kube.url).host;
    assert.ok(
      denied.stderr.includes(
        `Run failed: node "no-k8s": Cannot run node "no-k8s": it needs network access to ` +
          `"${host}"; add capabilities: { net: "${host}" }`,
      ),
      denied.stderr,
    );
    assert.ok(!kube.requests.some((r) => r.path.includes("secrets")));
  });
});

Deno.test("`pipedreamer exec` fails a k8s node clearly when there is no kubeconfig", async () => {
  await using tmp = await tempDir();
  const result = await cli(["exec", WORKFLOW, "--target", "list-nodes"], {
    env: { KUBECONFIG: join(tmp.path, "missing") },
  });
  assertExit(result, 1);
  assert.match(
    result.stderr,
    /Run failed: node "list-nodes": Cannot load kubeconfig/,
  );
});
