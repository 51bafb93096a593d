import assert from "node:assert/strict";
import { createProcessRunner } from "./process_runner.ts";
import { callOf, moduleNode, workflowOf } from "../testdata/sandbox/helpers.ts";

const never = () => new AbortController().signal;

Deno.test("a sandbox process that polls its bell when idle answers every call, in order", async () => {
  // A long poll: a process that missed the bell would still answer, after the poll ran out.
  const runner = createProcessRunner({ idleSpinUs: 2000 });
  const workflow = workflowOf([moduleNode("count", "counter"), moduleNode("echo", "echo")]);
  try {
    for (let n = 1; n <= 20; n++) {
      const result = await runner.run(callOf(workflow, "count").call, never());
      assert.equal(result.output, n);
    }
    const echo = callOf(workflow, "echo", { input: { n: 1 } });
    const echoed = await runner.run(echo.call, never());
    assert.deepEqual((echoed.output as { input: unknown }).input, { n: 1 });
    assert.equal(echo.logs.length, 1);
    assert.deepEqual(echo.progress, [{ value: 0.5, message: "half way" }]);
    const together = await Promise.all(
      Array.from({ length: 8 }, () => runner.run(callOf(workflow, "count").call, never())),
    );
    assert.deepEqual(together.map((r) => r.output).sort((a, b) => Number(a) - Number(b)), [
      21,
      22,
      23,
      24,
      25,
      26,
      27,
      28,
    ]);
  } finally {
    await runner.close();
  }
});
