import assert from "node:assert/strict";
import { join } from "node:path";
import { Command, Option } from "commander";
import {
  type CompiledNode,
  FailureKind,
  type K8sHostTransport,
  NodeFailure,
} from "../engine/mod.ts";
import { nodeK8sAccess, nodeK8sNamespace } from "./_node_k8s.ts";

/** The `exec` subcommand of a program with the global -n flag, after parsing `args`. */
function parsed(args: string[]): Command {
  const program = new Command("pipedreamer")
    .exitOverride()
    .addOption(new Option("-n, --namespace <name>", "Kubernetes namespace").default("default"));
  let sub: Command | undefined;
  program.command("exec").action((_opts, command: Command) => {
    sub = command;
  });
  program.parse(["exec", ...args], { from: "user" });
  return sub!;
}

function node(id: string, k8s: unknown): CompiledNode {
  return {
    id,
    kind: "module",
    path: `/wf/nodes/${id}.ts`,
    capabilities: { net: [], run: [], k8s },
    timeoutMs: 1000,
    retries: 0,
    allowFailure: false,
    codeHash: id,
  };
}

for (
  const [name, args, file, expected] of [
    ["-n wins over the pod's namespace", ["-n", "team"], "ops\n", "team"],
    ["the pod's namespace without -n", [], "ops\n", "ops"],
    ["default outside a cluster", [], undefined, "default"],
    ["-n default given explicitly", ["-n", "default"], "ops", "default"],
  ] as const
) {
  Deno.test(`\`nodeK8sNamespace()\`: ${name}`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "namespace");
      if (file !== undefined) await Deno.writeTextFile(path, file);
      assert.equal(
        nodeK8sNamespace(parsed([...args]), { serviceAccountNamespace: path }),
        expected,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("`nodeK8sAccess()` loads the real API once and restricts each node to its rules", async () => {
  let loaded = 0;
  const paths: string[] = [];
  const real: K8sHostTransport = (request) => {
    paths.push(request.path);
    return Promise.resolve({ status: 200, body: { items: [] } });
  };
  const access = nodeK8sAccess(parsed(["-n", "team"]), {
    live: () => (loaded++, real),
  });
  const pods = access(node("pods", [{ resources: ["pods"], verbs: ["list"], scope: "namespace" }]));
  const nodes = access(node("nodes", [{ resources: ["nodes"], verbs: ["list"] }]));
  assert.equal(loaded, 0, "the real API is loaded on the first call, not before");
  assert.equal(pods.namespace, "team");
  await pods.transport({ method: "GET", path: "/api/v1/namespaces/team/pods" });
  await nodes.transport({ method: "GET", path: "/api/v1/nodes" });
  assert.equal(loaded, 1);
  await assert.rejects(
    pods.transport({ method: "GET", path: "/api/v1/namespaces/other/pods" }),
    (error: unknown) => {
      assert.ok(error instanceof NodeFailure);
      assert.equal(error.kind, FailureKind.Capability);
      assert.match(error.message, /^Cannot list pods in namespace "other": not granted/);
      return true;
    },
  );
  assert.deepEqual(paths, ["/api/v1/namespaces/team/pods", "/api/v1/nodes"]);
});

Deno.test("`nodeK8sAccess()` guards a fixture's mock instead of the real API when given one", async () => {
  const access = nodeK8sAccess(parsed([]), {
    namespace: "default",
    live: () => assert.fail("the real API must not be loaded"),
  });
  const mock: K8sHostTransport = () => Promise.resolve({ status: 200, body: "mocked" });
  const { transport } = access(node("n", [{ resources: ["nodes"], verbs: ["list"] }]), mock);
  assert.deepEqual(await transport({ method: "GET", path: "/api/v1/nodes" }), {
    status: 200,
    body: "mocked",
  });
  await assert.rejects(transport({ method: "DELETE", path: "/api/v1/nodes/a" }), /Cannot delete/);
});
