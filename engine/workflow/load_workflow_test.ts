import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadWorkflow, loadWorkflowSource } from "./load_workflow.ts";
import { WorkflowSyntaxError } from "../errors.ts";
import { sha256Hex } from "./_node_files.ts";

const testdata = (name: string) => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));

async function rejection(promise: Promise<unknown>): Promise<WorkflowSyntaxError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WorkflowSyntaxError, String(error));
    return error;
  }
  assert.fail("expected a WorkflowSyntaxError");
}

Deno.test("`loadWorkflow()` loads a project with module and command nodes", async () => {
  const dir = testdata("compile-good");
  const workflow = await loadWorkflow(dir);
  assert.equal(workflow.name, "my-workflow");
  assert.equal(workflow.version, "1.0.0");
  assert.equal(workflow.dir, dir);
  assert.equal(workflow.file, `${dir}/workflow.yaml`);
  assert.deepEqual(workflow.order, ["fetch-data", "process", "convert"]);
  assert.equal(workflow.onError?.id, "notify-failure");
  const fetch = await Deno.readTextFile(`${dir}/nodes/fetch-data.ts`);
  assert.equal(workflow.nodes["fetch-data"]!.codeHash, sha256Hex(fetch));
  assert.equal(workflow.nodes["fetch-data"]!.path, `${dir}/nodes/fetch-data.ts`);
});

Deno.test("`loadWorkflowSource()` reads node files and command file arguments", async () => {
  const dir = testdata("compile-good");
  const source = await loadWorkflowSource(dir);
  assert.deepEqual([...source.sources.keys()].sort(), [
    `${dir}/nodes/convert.py`,
    `${dir}/nodes/fetch-data.ts`,
    `${dir}/nodes/notify-failure.ts`,
    `${dir}/nodes/process.ts`,
  ]);
  assert.equal(source.text, await Deno.readTextFile(`${dir}/workflow.yaml`));
  assert.equal(source.parsed.file, "workflow.yaml");
});

Deno.test("`loadWorkflow()` accepts the path of workflow.yaml itself", async () => {
  const dir = testdata("compile-good");
  const fromFile = await loadWorkflow(`${dir}/workflow.yaml`);
  const fromDir = await loadWorkflow(dir);
  assert.deepEqual(fromFile, fromDir);
});

Deno.test("`loadWorkflow()` reports a missing workflow file with the init hint", async () => {
  for (const dir of [testdata("no-such-project"), testdata("compile-good/nodes")]) {
    const error = await rejection(loadWorkflow(dir));
    assert.equal(error.issues.length, 1);
    const [issue] = error.issues;
    assert.equal(issue!.file, "workflow.yaml");
    assert.deepEqual([issue!.line, issue!.column], [0, 0]);
    assert.equal(issue!.message, `Workflow file not found: ${dir}/workflow.yaml`);
    assert.match(issue!.hint!, /pipedreamer init <name>/);
  }
});

Deno.test("`loadWorkflow()` reports a missing node file at its path value", async () => {
  const error = await rejection(loadWorkflow(testdata("compile-missing-node")));
  assert.deepEqual(error.issues, [{
    file: "workflow.yaml",
    line: 6,
    column: 11,
    message: "Node file not found: nodes/absent.ts",
    hint: "Create nodes/absent.ts with `export default async function run(ctx, input) { … }`, " +
      "or fix the path",
  }]);
});

Deno.test("`loadWorkflow()` reads another workflow file and never reads outside the project", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/project`;
    await Deno.mkdir(`${dir}/nodes`, { recursive: true });
    await Deno.writeTextFile(`${root}/outside.ts`, "export default () => 1;\n");
    await Deno.writeTextFile(`${dir}/nodes/a.ts`, "export default () => 1;\n");
    await Deno.writeTextFile(
      `${dir}/flow.yaml`,
      "name: alt\nversion: 0.1\nnodes:\n  a: { path: ./nodes/a.ts }\n" +
        "  b: { path: ../outside.ts }\nedges: [{ from: a, to: b }]\n",
    );
    const source = await loadWorkflowSource(dir, { file: "flow.yaml" });
    assert.deepEqual([...source.sources.keys()], [`${dir}/nodes/a.ts`]);
    const error = await rejection(loadWorkflow(dir, { file: "flow.yaml" }));
    assert.equal(error.issues.length, 1);
    assert.equal(error.issues[0]!.file, "flow.yaml");
    assert.match(error.issues[0]!.message, /outside the workflow directory/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
