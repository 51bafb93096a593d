import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { createRunner, executeRun, loadWorkflow } from "../engine/mod.ts";
import { collectWorkflowFiles } from "./workflow_files.ts";
import { expectedResult, subWorkflowTree } from "../tests/_sub_workflows.ts";

Deno.test("`collectWorkflowFiles()` (deploy --bundle source) places sub-workflows in _workflows/ and runs from there", async () => {
  await using tree = await subWorkflowTree();
  const files = await collectWorkflowFiles(await loadWorkflow(tree.parent));
  assert.deepEqual(files.map((f) => f.path).sort(), [
    "_workflows/child/nodes/enrich.ts",
    "_workflows/child/workflow.yaml",
    "_workflows/leaf/nodes/upper.ts",
    "_workflows/leaf/workflow.yaml",
    "_workflows/parent.inner/nodes/tag.ts",
    "_workflows/parent.inner/workflow.yaml",
    "nodes/list.ts",
    "nodes/total.ts",
    "workflow.yaml",
  ]);
  const top = files.find((f) => f.path === "workflow.yaml")!.content as string;
  assert.match(top, /workflow: \.\/_workflows\/child # a sibling directory/);
  const child = files.find((f) => f.path === "_workflows/child/workflow.yaml")!.content as string;
  assert.match(child, /workflow: \.\.\/leaf\b/);

  // Written out as the ConfigMap mount would be, the tree runs (secrets are not in the files).
  const out = await Deno.makeTempDir();
  const runner = createRunner();
  try {
    for (const file of files) {
      await Deno.mkdir(dirname(join(out, file.path)), { recursive: true });
      await Deno.writeTextFile(join(out, file.path), file.content as string);
    }
    const record = await executeRun(await loadWorkflow(out), {
      input: { users: ["ada"] },
      runner,
    });
    assert.equal(record.status, "succeeded", JSON.stringify(record.error));
    assert.deepEqual(record.result, expectedResult(["ada"], false));
  } finally {
    await runner.close();
    await Deno.remove(out, { recursive: true });
  }
});
