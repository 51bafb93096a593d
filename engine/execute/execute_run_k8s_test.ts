import assert from "node:assert/strict";
import { NodeFailure } from "../errors.ts";
import { executeRun } from "./execute_run.ts";
import { dag } from "../../testing/mod.ts";
import type { CompiledNode } from "../workflow_model.ts";
import type { K8sAccess, NodeCall, NodeRunner } from "../runner_protocol.ts";

/** A runner recording which `ctx.k8s` each attempt got; `fail(call)` may fail an attempt. */
function recordingRunner(fail: (call: NodeCall) => boolean = () => false) {
  const seen: { node: string; attempt: number; k8s: K8sAccess | undefined }[] = [];
  const runner: NodeRunner = {
    run(call) {
      seen.push({ node: call.node.id, attempt: call.attempt, k8s: call.k8s });
      if (fail(call)) return Promise.reject(new NodeFailure(`attempt ${call.attempt} failed`));
      return Promise.resolve({ output: call.node.id });
    },
    close: () => Promise.resolve(),
  };
  return { runner, seen };
}

const rules = [{ resources: ["pods"], verbs: ["list"] }];

Deno.test("`executeRun()` gives ctx.k8s only to nodes declaring capabilities.k8s, asking once per run", async () => {
  const workflow = dag({ a: [], b: ["a"], c: ["a"] }, {
    settings: { backoffMs: 0 },
    nodes: {
      a: { capabilities: { net: [], run: [], k8s: rules }, retries: 1 },
      c: { capabilities: { net: [], run: [], k8s: false } },
    },
  });
  const asked: string[] = [];
  const access: K8sAccess = {
    namespace: "ops",
    transport: () => Promise.resolve({ status: 200, body: {} }),
  };
  const { runner, seen } = recordingRunner((call) => call.node.id === "a" && call.attempt === 1);
  const record = await executeRun(workflow, {
    runner,
    k8s: (node: CompiledNode) => {
      asked.push(node.id);
      return access;
    },
  });
  assert.equal(record.status, "succeeded");
  assert.deepEqual(asked, ["a"]);
  assert.deepEqual(seen.map((s) => [s.node, s.attempt, s.k8s === access]), [
    ["a", 1, true],
    ["a", 2, true],
    ["b", 1, false],
    ["c", 1, false],
  ]);
});

Deno.test("`executeRun()` without the k8s option gives no node ctx.k8s", async () => {
  const workflow = dag({ a: [] }, {
    nodes: { a: { capabilities: { net: [], run: [], k8s: true } } },
  });
  const { runner, seen } = recordingRunner();
  await executeRun(workflow, { runner });
  assert.deepEqual(seen.map((s) => s.k8s), [undefined]);
});

Deno.test("`executeRun()` fails a node, without retries, when its ctx.k8s cannot be made", async () => {
  const workflow = dag({ a: [], b: [] }, {
    settings: { backoffMs: 0, failFast: false },
    nodes: { a: { capabilities: { net: [], run: [], k8s: rules }, retries: 2 } },
  });
  const { runner, seen } = recordingRunner();
  const record = await executeRun(workflow, {
    runner,
    k8s: () => {
      throw new TypeError("Cannot find a kubeconfig: set KUBECONFIG");
    },
  });
  assert.equal(record.status, "failed");
  assert.equal(record.nodes.a?.status, "failed");
  assert.equal(record.nodes.a?.attempts, 1);
  assert.equal(
    record.nodes.a?.error?.message,
    'Cannot give node "a" ctx.k8s: Cannot find a kubeconfig: set KUBECONFIG',
  );
  // The node itself never ran; the other one did.
  assert.deepEqual(seen.map((s) => s.node), ["b"]);
});
