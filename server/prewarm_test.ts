import { strict as assert } from "node:assert";
import { createRunner, loadWorkflow, type NodeRunner } from "../engine/mod.ts";
import { prewarmSandboxes } from "./_prewarm.ts";

const workflow = await loadWorkflow(new URL("../examples/hello-world", import.meta.url).pathname);

Deno.test("prewarmSandboxes() prepares the first module nodes in a runner temp dir, then gives it back", async () => {
  const calls: string[] = [];
  const runner: NodeRunner = {
    run: () => Promise.reject(new Error("not called")),
    close: () => Promise.resolve(),
    makeTmpDir: (runId) => {
      calls.push(`make ${runId.startsWith("prewarm-")}`);
      return Promise.resolve("/tmp/base/dir");
    },
    prepare: (call) => {
      calls.push(`prepare ${call.node.id} in ${call.tmpDir}`);
      return undefined;
    },
    releaseTmpDir: (dir) => {
      calls.push(`release ${dir}`);
      return Promise.resolve();
    },
  };
  await prewarmSandboxes(runner, workflow);
  const modules = workflow.order.filter((id) => workflow.nodes[id]!.kind === "module");
  assert.ok(modules.length > 0);
  assert.deepEqual(calls, [
    "make true",
    ...modules.slice(0, 4).map((id) => `prepare ${id} in /tmp/base/dir`),
    "release /tmp/base/dir",
  ]);
});

Deno.test("prewarmSandboxes() never rejects, and leaves a real runner with the sandbox prepared", async () => {
  const failing: NodeRunner = {
    run: () => Promise.reject(new Error("not called")),
    close: () => Promise.resolve(),
    makeTmpDir: () => Promise.reject(new Error("disk full")),
    prepare: () => undefined,
  };
  await prewarmSandboxes(failing, workflow);
  const runner = createRunner();
  try {
    await prewarmSandboxes(runner, workflow);
    const first = workflow.nodes[workflow.order[0]!]!;
    const tmpDir = await runner.makeTmpDir!("r1");
    // Prepared already: nothing left to wait for.
    assert.equal(runner.prepare!({ workflow, node: first, tmpDir, k8s: undefined }), undefined);
    await runner.releaseTmpDir!(tmpDir);
  } finally {
    await runner.close();
  }
});
