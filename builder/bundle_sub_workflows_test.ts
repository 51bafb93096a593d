import { strict as assert } from "node:assert";
import { join } from "node:path";
import { createRunner, executeRun, loadWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import { bundleWorkflow } from "./bundle_workflow.ts";
import { copyDir } from "../tests/_sub_workflows.ts";

const TREE = new URL("../tests/testdata/sub-workflows", import.meta.url).pathname;
const decode = (data: Uint8Array | undefined) => new TextDecoder().decode(data);

Deno.test("`bundleWorkflow()` bundles every sub-workflow, transitively, inside the bundle", async () => {
  const source = await loadWorkflow(join(TREE, "parent"));
  const out = await Deno.makeTempDir();
  try {
    const bundle = await bundleWorkflow(source, { outDir: out });
    assert.deepEqual(Object.keys(bundle.files), [
      "_workflows/child/enrich.js",
      "_workflows/child/workflow.yaml",
      "_workflows/leaf/upper.js",
      "_workflows/leaf/workflow.yaml",
      "_workflows/parent.inner/tag.js",
      "_workflows/parent.inner/workflow.yaml",
      "list.js",
      "manifest.json",
      "total.js",
      "workflow.yaml",
    ]);
    assert.match(decode(bundle.files["workflow.yaml"]), /workflow: \.\/_workflows\/child #/);
    assert.match(
      decode(bundle.files["workflow.yaml"]),
      /workflow: \.\/_workflows\/parent\.inner #/,
    );
    // A sub-workflow's own sub-workflow is its sibling in the bundle.
    assert.match(decode(bundle.files["_workflows/child/workflow.yaml"]), /workflow: \.\.\/leaf\b/);
    assert.deepEqual(bundle.manifest.workflows?.["_workflows/child"]?.nodes, {
      enrich: ["enrich.js"],
    });
    assert.equal(bundle.manifest.codeHash, source.codeHash);
    assert.ok(bundle.manifest.files["_workflows/leaf/upper.js"]);

    // The bundle runs on its own: every workflow: path resolves inside it.
    const bundled = await loadWorkflow(out);
    assert.deepEqual(
      Object.values(bundled.subWorkflows ?? {}).map((w) => w.dir).sort(),
      ["child", "leaf", "parent.inner"].map((key) => join(out, "_workflows", key)),
    );
    const runner = createRunner();
    try {
      const record = await executeRun(bundled, { input: { users: ["ada"] }, runner });
      assert.equal(record.status, "succeeded", JSON.stringify(record.error));
      assert.deepEqual(record.result, {
        users: [{ user: "ada", length: 3, services: [], childToken: "none", upper: "ADA" }],
        tag: { tagged: 1 },
        services: [],
      });
    } finally {
      await runner.close();
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("`bundleWorkflow()`: a change in a sub-workflow changes the top workflow's code hash", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const name of ["parent", "child", "leaf"]) {
      await copyDir(join(TREE, name), join(root, name));
    }
    const before = await loadWorkflow(join(root, "parent"));
    await Deno.writeTextFile(
      join(root, "leaf/nodes/upper.ts"),
      (await Deno.readTextFile(join(root, "leaf/nodes/upper.ts"))).replace(
        "toUpperCase",
        "toLowerCase",
      ),
    );
    const after = await loadWorkflow(join(root, "parent"));
    assert.notEqual(after.codeHash, before.codeHash);
    assert.equal(after.nodes.list?.codeHash, before.nodes.list?.codeHash);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("`bundleWorkflow()` rejects a sub-workflow outside the project root at its file:line:column", async () => {
  const root = await Deno.makeTempDir();
  try {
    await copyDir(join(TREE, "leaf"), join(root, "far/leaf"));
    await copyDir(join(TREE, "leaf"), join(root, "project/near"));
    await Deno.mkdir(join(root, "project/top"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "project/top/workflow.yaml"),
      [
        "name: top",
        'version: "1.0.0"',
        "nodes:",
        "  near: { workflow: ../near }",
        "  far:",
        "    workflow: ../../far/leaf",
        "",
      ].join("\n"),
    );
    const workflow = await loadWorkflow(join(root, "project/top"));
    const error = await bundleWorkflow(workflow).then(
      () => assert.fail("bundled a workflow outside the project root"),
      (e) => e,
    );
    assert.ok(error instanceof WorkflowSyntaxError, String(error));
    assert.equal(error.issues.length, 1);
    assert.deepEqual(
      { ...error.issues[0], hint: undefined },
      {
        file: "workflow.yaml",
        line: 6,
        column: 15,
        message: `Cannot bundle the sub-workflow of node "far": "${
          join(root, "far/leaf")
        }" is outside the project root "${join(root, "project")}"`,
        hint: undefined,
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("`bundleWorkflow()` rejects two sub-workflows that would share a bundle directory", async () => {
  const root = await Deno.makeTempDir();
  try {
    await copyDir(join(TREE, "leaf"), join(root, "a/b"));
    await copyDir(join(TREE, "leaf"), join(root, "a.b"));
    await Deno.mkdir(join(root, "top"));
    await Deno.writeTextFile(
      join(root, "top/workflow.yaml"),
      'name: top\nversion: "1.0.0"\nnodes:\n  one: { workflow: ../a/b }\n  two: { workflow: ../a.b }\n',
    );
    await assert.rejects(
      bundleWorkflow(await loadWorkflow(join(root, "top"))),
      new RegExp(
        `^RangeError: Cannot bundle sub-workflows "${join(root, "a/b")}" and "${
          join(root, "a.b")
        }": both would go to _workflows/a\\.b/; rename one of their directories$`,
      ),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
