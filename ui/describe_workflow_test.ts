import assert from "node:assert/strict";
import { describeWorkflow } from "./describe_workflow.ts";
import { DIAMOND, SINGLE } from "./testdata/_workflows.ts";

Deno.test("`describeWorkflow()` lists nodes in order with capabilities, limits and relations", () => {
  const info = describeWorkflow(DIAMOND);
  assert.deepEqual(info.nodes.map((n) => n.id), ["fetch", "a", "b", "join", "notify"]);
  const [fetch, a, b, join, notify] = info.nodes;
  assert.deepEqual(fetch, {
    id: "fetch",
    kind: "module",
    file: "nodes/fetch.ts",
    capabilities: { net: ["api.github.com"], run: [], k8s: false, secrets: [] },
    memoryMiB: 256,
    timeoutMs: 10_000,
    retries: 2,
    allowFailure: false,
    codeHash: DIAMOND.nodes.fetch!.codeHash,
    parents: [],
    children: ["a", "b"],
  });
  assert.equal(a!.cacheMs, 600_000);
  assert.deepEqual(b!.command, ["python3", "./nodes/b.py"]);
  assert.equal(b!.kind, "command");
  assert.equal(b!.allowFailure, true);
  assert.deepEqual(b!.capabilities.run, ["python3"]);
  assert.equal(b!.memoryMiB, undefined);
  assert.deepEqual(join!.parents, ["a", "b"]);
  assert.equal(notify!.onError, true);
});

Deno.test("`describeWorkflow()` carries version, code hash, triggers, schema and layout", () => {
  const info = describeWorkflow(DIAMOND);
  assert.equal(info.name, "diamond");
  assert.equal(info.version, "2.1.0");
  assert.equal(info.codeHash, DIAMOND.codeHash);
  assert.equal(info.onError, "notify");
  assert.deepEqual(info.triggers, DIAMOND.triggers);
  assert.deepEqual(info.roots, ["fetch"]);
  assert.deepEqual(info.sinks, ["join"]);
  assert.deepEqual(info.inputSchema, DIAMOND.inputSchema);
  assert.equal(info.layout.nodes.length, 5);
  assert.equal(info.layout.edges.length, 4);
});

Deno.test("`describeWorkflow()` keeps host paths and config out and is cached per workflow", () => {
  const info = describeWorkflow(DIAMOND);
  const text = JSON.stringify(info);
  assert.ok(!text.includes(DIAMOND.dir + "/"), "an absolute path leaked");
  assert.ok(!("config" in info));
  assert.equal(describeWorkflow(DIAMOND), info);
  const single = describeWorkflow(SINGLE);
  assert.equal(single.onError, undefined);
  assert.equal(single.inputSchema, undefined);
  assert.deepEqual(single.triggers, [{ type: "manual" }]);
});
