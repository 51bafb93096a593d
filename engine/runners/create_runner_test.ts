import assert from "node:assert/strict";
import { createRunner } from "./create_runner.ts";
import { NodeFailure } from "../errors.ts";
import type { CompiledNode } from "../workflow_model.ts";
import { callOf, commandNode, moduleNode, workflowOf } from "../testdata/sandbox/helpers.ts";

Deno.test("`createRunner()` runs module nodes sandboxed and command nodes as subprocesses", async () => {
  const runner = createRunner();
  try {
    const workflow = workflowOf([
      moduleNode("env", "read_env"),
      moduleNode("echo", "echo"),
      commandNode("cat", ["cat"], { run: ["cat"] }),
    ]);
    const signal = new AbortController().signal;
    const tmpDir = await runner.makeTmpDir!("run-1");
    const echoed = await runner.run(callOf(workflow, "echo", { input: 1, tmpDir }).call, signal);
    assert.equal((echoed.output as { input: unknown }).input, 1);
    const cat = await runner.run(callOf(workflow, "cat", { input: [1], tmpDir }).call, signal);
    assert.deepEqual(cat.output, [1]);
    // In a sandbox, reading the environment is denied.
    await assert.rejects(
      runner.run(callOf(workflow, "env", { tmpDir }).call, signal),
      (error: NodeFailure) => error.kind === "capability",
    );
  } finally {
    await runner.close();
  }
});

Deno.test("`createRunner()` rejects a node of unknown kind", async () => {
  const runner = createRunner();
  try {
    const node = { ...moduleNode("odd", "echo"), kind: "wasm" } as unknown as CompiledNode;
    await assert.rejects(
      runner.run(callOf(workflowOf([node]), "odd").call, new AbortController().signal),
      { name: "TypeError", message: 'Cannot run node "odd": unknown kind "wasm"' },
    );
  } finally {
    await runner.close();
  }
});

Deno.test("`createRunner()` close() removes the temp dirs it made", async () => {
  const runner = createRunner();
  const tmpDir = await runner.makeTmpDir!("run-2");
  await Deno.writeTextFile(`${tmpDir}/f.txt`, "x");
  await runner.close();
  await assert.rejects(Deno.stat(tmpDir), Deno.errors.NotFound);
});

Deno.test("`createRunner()` in an engine that may not run deno runs module nodes in workers and warns on every attempt", async () => {
  const exe = Deno.execPath();
  const output = await new Deno.Command(exe, {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--unstable-worker-options",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("../testdata/sandbox/uncontained_probe.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(result.output.input, 7);
  assert.deepEqual(result.warnings, [
    "Not contained: this node runs in a worker of the engine process, not in a sandbox " +
    `process, because the engine may not run "${exe}" (start it with --allow-run=${exe}); ` +
    "its permissions hold, but exhausting memory or crashing its runtime takes the engine " +
    "down (README: Security)",
  ]);
});
