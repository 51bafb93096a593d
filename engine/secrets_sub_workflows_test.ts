import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSubWorkflowSecrets } from "./secrets.ts";
import { loadWorkflow } from "./workflow/load_workflow.ts";

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

Deno.test("`loadSubWorkflowSecrets()` gives each sub-workflow its own secrets and mount, never its parent's", async () => {
  const root = await Deno.makeTempDir();
  try {
    const leaf = (name: string) =>
      `name: ${name}\nversion: "1.0.0"\nnodes:\n  a: { path: ./a.ts }\n`;
    await write(
      join(root, "top/workflow.yaml"),
      'name: top\nversion: "1.0.0"\nnodes:\n  in: { workflow: ./inner }\n  out: { workflow: ../other }\n  bare: { workflow: ../bare }\n',
    );
    await write(join(root, "top/.secrets.yaml"), "parent: { token: top-secret-1 }\n");
    for (const dir of ["top/inner", "other", "bare"]) {
      await write(join(root, dir, "workflow.yaml"), leaf(dir.replace("/", "-")));
      await write(join(root, dir, "a.ts"), "export default () => 1;\n");
    }
    await write(join(root, "top/inner/.secrets.yaml"), "inner: { token: local-1 }\n");
    await write(join(root, "other/.secrets/other"), "other-token-1");
    // The mount: the top's services at its top level, the inner child's under .workflows/inner.
    const mount = join(root, "mount");
    await write(join(mount, "parent"), "mounted-top-1");
    await write(join(mount, ".workflows/inner/inner"), '{ "token": "mounted-inner-1" }');
    // Only a child inside the top workflow's directory has a mount directory.
    await write(join(mount, ".workflows/other/other"), "never-read-1");

    const workflow = await loadWorkflow(join(root, "top"));
    const secrets = await loadSubWorkflowSecrets(workflow, { mountDir: mount });
    assert.deepEqual(secrets, {
      [join(root, "bare")]: {},
      [join(root, "other")]: { other: "other-token-1" },
      [join(root, "top/inner")]: { inner: { token: "mounted-inner-1" } },
    });
    // A workflow without sub-workflows has none to load.
    assert.deepEqual(await loadSubWorkflowSecrets(await loadWorkflow(join(root, "bare"))), {});
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
