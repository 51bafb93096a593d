import assert from "node:assert/strict";
import { join } from "node:path";
import { executeRun } from "./execute_run.ts";
import { loadWorkflow } from "../workflow/load_workflow.ts";
import { createMemoryDurableState } from "../durable_memory.ts";
import { createRunner } from "../runners/create_runner.ts";
import { createInProcessRunner } from "../runners/in_process_runner.ts";
import { createProcessRunner } from "../runners/process_runner.ts";
import type { NodeRunner } from "../runner_protocol.ts";

const NODE = `
export default async function charge(ctx, input) {
  const invoice = await ctx.step("create-invoice", async () => {
    await Deno.writeTextFile(ctx.tmpDir + "/charged", "x", { append: true });
    return { id: 42, item: ctx.item ?? null };
  });
  const nothing = await ctx.step("nothing", () => undefined);
  if (ctx.attempt === 1 && input.failOnce) throw new Error("flaky after the step");
  let charged = "";
  try { charged = await Deno.readTextFile(ctx.tmpDir + "/charged"); } catch { /* never ran */ }
  return { invoice, nothing, charged, attempt: ctx.attempt };
}
`;

async function project(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-step-" });
  await Deno.mkdir(join(dir, "nodes"));
  await Deno.writeTextFile(join(dir, "nodes/charge.ts"), NODE);
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    "name: step-demo\nversion: 1.0.0\nnodes:\n  charge: { path: ./nodes/charge.ts, retries: 1 }\n" +
      "config: { backoff: 1ms, maxBackoff: 1ms }\n",
  );
  return dir;
}

for (
  const [name, makeRunner] of [
    ["the sandboxed runner", () => createRunner()],
    ["the sandbox process runner", () => createProcessRunner()],
    ["the sandbox worker runner", () => createRunner({ sandbox: "worker" })],
    ["the in-process runner", () => createInProcessRunner()],
  ] as [string, () => NodeRunner][]
) {
  Deno.test(`\`ctx.step\` (${name}) runs once per run and a retried attempt gets the stored result`, async () => {
    const dir = await project();
    const runner = makeRunner();
    const tmpDir = await Deno.makeTempDir();
    try {
      const workflow = await loadWorkflow(dir);
      const durable = createMemoryDurableState();
      const record = await executeRun(workflow, {
        runner,
        tmpDir,
        durable,
        runId: "r1",
        input: { failOnce: true },
      });
      assert.equal(record.status, "succeeded", JSON.stringify(record.nodes));
      assert.deepEqual(record.result, {
        invoice: { id: 42, item: null },
        nothing: null,
        charged: "x",
        attempt: 2,
      });
      assert.deepEqual(await durable.getStep("r1", "charge", "create-invoice"), {
        value: { id: 42, item: null },
      });

      // A resumed run (after a crash) finds the stored result: fn does not run again.
      await Deno.remove(join(tmpDir, "charged"));
      const resumed = await executeRun(workflow, {
        runner,
        tmpDir,
        durable,
        resume: { ...record, status: "running", nodes: {} },
      });
      assert.equal((resumed.result as { charged: string }).charged, "");
      // Fixtures preset step results.
      const preset = createMemoryDurableState({
        steps: { charge: { "create-invoice": { id: 7 }, nothing: "preset" } },
      });
      const fixture = await executeRun(workflow, { runner, tmpDir, durable: preset, input: {} });
      assert.deepEqual(fixture.result, {
        invoice: { id: 7 },
        nothing: "preset",
        charged: "",
        attempt: 1,
      });
    } finally {
      await runner.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(tmpDir, { recursive: true });
    }
  });
}

for (
  const [name, makeRunner] of [
    ["the sandbox process runner", () => createProcessRunner()],
    ["the sandbox worker runner", () => createRunner({ sandbox: "worker" })],
  ] as [string, () => NodeRunner][]
) {
  Deno.test(`map elements (${name}) get \`ctx.item\` and keep \`ctx.step\` results apart`, async () => {
    const dir = await project();
    await Deno.writeTextFile(join(dir, "nodes/list.ts"), "export default () => [10, 20];\n");
    await Deno.writeTextFile(
      join(dir, "workflow.yaml"),
      "name: step-map\nversion: 1.0.0\nnodes:\n  list: { path: ./nodes/list.ts }\n" +
        "  charge: { path: ./nodes/charge.ts, map: { over: '.', concurrency: 2 } }\n" +
        "edges:\n  - { from: list, to: charge }\n",
    );
    const runner = makeRunner();
    const tmpDir = await Deno.makeTempDir();
    try {
      const workflow = await loadWorkflow(dir);
      const durable = createMemoryDurableState();
      const record = await executeRun(workflow, { runner, tmpDir, durable, runId: "m1" });
      assert.equal(record.status, "succeeded", JSON.stringify(record.nodes));
      for (const index of [0, 1]) {
        assert.deepEqual(await durable.getStep("m1", `charge[${index}]`, "create-invoice"), {
          value: { id: 42, item: { index, total: 2 } },
        });
      }
    } finally {
      await runner.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(tmpDir, { recursive: true });
    }
  });
}
