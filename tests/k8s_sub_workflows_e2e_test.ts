/**
 * Sub-workflows through deploy (SPEC §9): the real CLI against the fake API server of
 * tests/fake_kube, whose service proxy forwards to a real `pipedreamer serve` started from the
 * deployed Deployment, code ConfigMap and Secrets (tests/fake_kube/deployed_engine.ts).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { kubeconfigYaml, startFakeKube } from "./fake_kube/mod.ts";
import { DeployedEngine } from "./fake_kube/deployed_engine.ts";
import { assertExit, cli, type CliResult, stdoutJson } from "./_cli.ts";
import { assertNoSecret, CHILD_SECRET, expectedResult, subWorkflowTree } from "./_sub_workflows.ts";

const NAME = "sub-parent";
const IMAGE = "ghcr.io/acme/sub-parent:1.0.0";
const CODE_FILES = [
  "_workflows__child__enrich.js",
  "_workflows__child__workflow.yaml",
  "_workflows__leaf__upper.js",
  "_workflows__leaf__workflow.yaml",
  "_workflows__parent.inner__tag.js",
  "_workflows__parent.inner__workflow.yaml",
  "list.js",
  "manifest.json",
  "total.js",
  "workflow.yaml",
];

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("deploy bundles the sub-workflows and their own secrets; the pod's engine runs them; a child's change needs a new version", async () => {
  await using tree = await subWorkflowTree();
  const kube = await startFakeKube();
  const engine = new DeployedEngine(kube, "default", NAME);
  kube.setServiceBackend("default", NAME, engine.handle);
  const kubeconfig = join(tree.root, "kubeconfig");
  await Deno.writeTextFile(kubeconfig, kubeconfigYaml([{ name: "fake", fake: kube }]));
  const run = (...args: string[]): Promise<CliResult> =>
    cli(args, { env: { KUBECONFIG: kubeconfig } });
  try {
    const dry = await run(
      "deploy",
      tree.parent,
      "--image",
      IMAGE,
      "--dry-run",
      "-o",
      "json",
      "--include-secrets",
    );
    assertExit(dry, 0);
    assert.equal(kube.requests.length, 0, "dry-run talked to the cluster");
    const items = stdoutJson<{ items: Json[] }>(dry).items;
    const code = items.find((o) => o.kind === "ConfigMap" && o.metadata.name.includes("-code-"))!;
    assert.deepEqual(Object.keys(code.data).sort(), CODE_FILES);
    const deployment = items.find((o) => o.kind === "Deployment")!;
    const volumes = deployment.spec.template.spec.volumes as Json[];
    const codeItems = volumes.find((v) => v.name === "workflow")!.configMap.items as Json[];
    assert.ok(
      codeItems.some((i) =>
        i.key === "_workflows__child__enrich.js" && i.path === "_workflows/child/enrich.js"
      ),
      JSON.stringify(codeItems),
    );
    // The child's own secrets: in the same Secret, mounted where the engine loads them for it.
    const secret = items.find((o) => o.kind === "Secret" && o.metadata.name === `${NAME}-secrets`)!;
    assert.deepEqual(Object.keys(secret.data).sort(), [
      "_workflows__child__child",
      "child",
      "parent",
    ]);
    assert.deepEqual(JSON.parse(atob(secret.data._workflows__child__child)), {
      token: CHILD_SECRET,
    });
    const projected = volumes.find((v) => v.name === "secrets")!.projected.sources[0].secret;
    assert.deepEqual(projected.items, [
      { key: "child", path: "child" },
      { key: "parent", path: "parent" },
      { key: "_workflows__child__child", path: ".workflows/_workflows/child/child" },
    ]);
    // Without --include-secrets the YAML names the files, never a secret value.
    const yaml = await run("deploy", tree.parent, "--image", IMAGE, "--dry-run");
    assertExit(yaml, 0);
    assert.match(yaml.stdout, /_workflows\/leaf\/upper\.js/);
    assertNoSecret(yaml.stdout + yaml.stderr, "the dry-run output");

    const deployed = await run("deploy", tree.parent, "--image", IMAGE, "-o", "json");
    assertExit(deployed, 0);
    const result = await run("run", NAME, "--input", '{"users":["ada","grace"]}', "-o", "json");
    assertExit(result, 0);
    const record = stdoutJson<Json>(result);
    assert.equal(record.status, "succeeded", result.stdout);
    assert.deepEqual(record.result, expectedResult(["ada", "grace"]));
    const live = kube.get("apps/v1", "Deployment", "default", NAME)!;
    const hash = live.metadata.annotations?.["pipedreamer.dev/code-hash"];
    assert.equal(record.codeHash, hash);
    assertNoSecret(result.stdout + result.stderr + engine.stderr(), "the run's output or logs");

    // A change in a sub-workflow is new code: the same version cannot be deployed again.
    const leaf = join(tree.root, "leaf/nodes/upper.ts");
    await Deno.writeTextFile(
      leaf,
      (await Deno.readTextFile(leaf)).replace("toUpperCase", "toLowerCase"),
    );
    const same = await run("deploy", tree.parent, "--image", IMAGE);
    assertExit(same, 1);
    assert.match(same.stderr, /version 1\.0\.0 is already deployed with different code/);
    const file = join(tree.parent, "workflow.yaml");
    await Deno.writeTextFile(
      file,
      (await Deno.readTextFile(file)).replace('version: "1.0.0"', 'version: "1.0.1"'),
    );
    assertExit(await run("deploy", tree.parent, "--image", IMAGE), 0);
    const after = stdoutJson<Json>(
      await run("run", NAME, "--input", '{"users":["Ada"]}', "-o", "json"),
    );
    assert.equal(after.version, "1.0.1");
    assert.equal(after.result.users[0].upper, "ada");
    assert.notEqual(after.codeHash, hash);
  } finally {
    await engine.close();
    await kube.close();
  }
});
