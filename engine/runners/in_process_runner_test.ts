import assert from "node:assert/strict";
import { createInProcessRunner } from "./in_process_runner.ts";
import { callOf, commandNode, moduleNode, workflowOf } from "../testdata/sandbox/helpers.ts";
import { runnerCases } from "../testdata/sandbox/runner_cases.ts";
import { k8sRunnerCases } from "../testdata/sandbox/k8s_runner_cases.ts";

runnerCases("createInProcessRunner()", (options) => createInProcessRunner(options));
k8sRunnerCases("createInProcessRunner()", (options) => createInProcessRunner(options));

Deno.test("`createInProcessRunner()` shares module state with the engine's isolate", async () => {
  const runner = createInProcessRunner();
  try {
    const workflow = workflowOf([
      moduleNode("a", "counter", { codeHash: "in-process" }),
      moduleNode("b", "counter", { codeHash: "in-process", net: ["example.com"] }),
    ]);
    const signal = new AbortController().signal;
    const first = await runner.run(callOf(workflow, "a").call, signal);
    const second = await runner.run(callOf(workflow, "b").call, signal);
    // No sandbox: capabilities do not separate isolates.
    assert.equal((second.output as number) - (first.output as number), 1);
  } finally {
    await runner.close();
  }
});

Deno.test("`createInProcessRunner()` runs command nodes as subprocesses", async () => {
  const runner = createInProcessRunner();
  try {
    const workflow = workflowOf([commandNode("cat", ["cat"], { run: ["cat"] })]);
    const result = await runner.run(
      callOf(workflow, "cat", { input: { a: [1, "two"] } }).call,
      new AbortController().signal,
    );
    assert.deepEqual(result, { output: { a: [1, "two"] } });
  } finally {
    await runner.close();
  }
});
