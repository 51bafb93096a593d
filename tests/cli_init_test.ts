import assert from "node:assert/strict";
import { assertExit, cli, DENO, stdoutJson, tempDir } from "./_cli.ts";

Deno.test("`pipedreamer init` scaffolds a project that validates, tests, runs and type-checks", async () => {
  await using tmp = await tempDir();
  const init = await cli(["init", "my-flow"], { cwd: tmp.path });
  assertExit(init, 0);
  assert.match(init.stdout, /Created workflow "my-flow" in my-flow/);
  const dir = `${tmp.path}/my-flow`;
  for (
    const file of [
      "workflow.yaml",
      "nodes/hello.ts",
      "tests/fixtures/hello.json",
      "tests/pipeline/default.json",
      ".secrets.yaml.example",
      ".gitignore",
      "deno.json",
      "types/pipedreamer.ts",
    ]
  ) {
    assert.ok((await Deno.stat(`${dir}/${file}`)).isFile, file);
  }
  assert.equal(
    await Deno.readTextFile(`${dir}/.gitignore`),
    ".secrets.yaml\n.secrets/\n.pipedreamer/\n",
  );

  const validate = await cli(["validate", dir]);
  assertExit(validate, 0);
  assert.match(validate.stdout, /my-flow 1\.0\.0 is valid/);

  const test = await cli(["test", dir]);
  assertExit(test, 0);
  assert.match(test.stdout, /^✓ fixtures\/hello /m);
  assert.match(test.stdout, /^✓ pipeline\/default /m);
  assert.match(test.stdout, /^2 passed, 0 failed$/m);

  const exec = await cli(["exec", dir, "--input", '{"name":"Ada"}', "-o", "json"]);
  assertExit(exec, 0);
  const record = stdoutJson(exec);
  assert.equal(record.status, "succeeded");
  assert.deepEqual(record.result, { greeting: "Hello, Ada!" });

  // The project type-checks on its own: "pipedreamer" resolves through its deno.json.
  const check = await new Deno.Command(DENO, {
    args: ["check", "nodes/hello.ts"],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
});

Deno.test("`pipedreamer init` refuses a non-empty directory and exits 1", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(`${tmp.path}/taken`);
  await Deno.writeTextFile(`${tmp.path}/taken/keep.txt`, "mine");
  const result = await cli(["init", "taken"], { cwd: tmp.path });
  assertExit(result, 1);
  assert.match(result.stderr, /Cannot create project in ".*taken": the directory is not empty/);
  assert.equal(await Deno.readTextFile(`${tmp.path}/taken/keep.txt`), "mine");
});

Deno.test("`pipedreamer init` accepts an empty directory", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(`${tmp.path}/empty-one`);
  assertExit(await cli(["init", "empty-one"], { cwd: tmp.path }), 0);
  assert.ok((await Deno.stat(`${tmp.path}/empty-one/workflow.yaml`)).isFile);
});

for (const name of ["My_Flow", "a".repeat(54), "trailing-"]) {
  Deno.test(`\`pipedreamer init\` rejects the name "${name.slice(0, 12)}" as a usage error`, async () => {
    await using tmp = await tempDir();
    const result = await cli(["init", name], { cwd: tmp.path });
    assertExit(result, 2);
    assert.match(result.stderr, /Cannot create workflow: /);
    assert.match(result.stderr, /Usage: pipedreamer init/);
    assert.deepEqual([...Deno.readDirSync(tmp.path)], []);
  });
}
