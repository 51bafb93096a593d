import assert from "node:assert/strict";
import { assertExit, cli, stdoutJson } from "./_cli.ts";

const BROKEN = "tests/testdata/broken";

Deno.test("`pipedreamer validate` accepts a valid workflow and exits 0", async () => {
  const result = await cli(["validate", "examples/hello-world"]);
  assertExit(result, 0);
  assert.equal(result.stdout, "✓ hello-world 1.0.0 is valid (4 nodes, 4 edges)\n");
});

Deno.test("`pipedreamer validate` counts nodes as `exec --dry-run` does, onError apart", async () => {
  const result = await cli(["validate", "examples/retries"]);
  assertExit(result, 0);
  assert.equal(
    result.stdout,
    '✓ retries 1.0.0 is valid (3 nodes and onError "notify-failure", 2 edges)\n',
  );
  const plan = await cli(["exec", "examples/retries", "--dry-run"]);
  assert.match(plan.stdout, /^Plan for retries 1\.0\.0: 3 nodes;/);
});

Deno.test("`pipedreamer validate` type-checks node files and the types along each edge", async () => {
  const dir = "tests/testdata/typed";
  const result = await cli(["validate", dir]);
  assertExit(result, 1);
  assert.equal(
    result.stdout,
    `${dir}/workflow.yaml:10:5: Edge count → greet: the output of "count" does not fit the ` +
      "input of \"greet\": Property 'name' is missing in type '{ n: number; }' but required in " +
      "type '{ name: string; }'.\n" +
      '  hint: Make the input type of "greet" accept what "count" returns\n' +
      `${dir}/workflow.yaml:12:5: Edge greet → join: the output of "greet" does not fit the ` +
      "input of \"join\": Type 'string' is not assignable to type 'number'.\n" +
      '  hint: Type the input of "join" as { greet: <output of greet>, … }\n' +
      `${dir}/nodes/join.ts:3:9: Type 'string' is not assignable to type 'number'.\n` +
      "  hint: Fix the node's code; `pipedreamer validate --no-typecheck` skips this check\n" +
      "3 errors in workflow\n",
  );
  const skipped = await cli(["validate", dir, "--no-typecheck"]);
  assertExit(skipped, 0);
  assert.match(skipped.stdout, /typed 1\.0\.0 is valid/);
});

Deno.test("`pipedreamer validate` reports a syntax error in a node file at its position", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-validate-syntax-" });
  try {
    await Deno.mkdir(`${dir}/nodes`);
    await Deno.writeTextFile(
      `${dir}/workflow.yaml`,
      "name: syntax\nversion: 1.0.0\nnodes:\n  a: { path: ./nodes/a.ts }\n",
    );
    await Deno.writeTextFile(`${dir}/nodes/a.ts`, "const x = ;\nexport default () => x;\n");
    const result = await cli(["validate", dir]);
    assertExit(result, 1);
    assert.match(result.stdout, /\/nodes\/a\.ts:1:11: Syntax error: Expression expected\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`pipedreamer validate` notes that a command node's net is not filtered per host", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-validate-netcmd-" });
  try {
    await Deno.writeTextFile(
      `${dir}/workflow.yaml`,
      "name: netcmd\nversion: 1.0.0\nnodes:\n  c:\n    command: [python3, x.py]\n" +
        "    capabilities: { run: [python3], net: [example.com] }\n",
    );
    await Deno.writeTextFile(`${dir}/x.py`, "print(1)\n");
    const result = await cli(["validate", dir]);
    assertExit(result, 0);
    assert.match(
      result.stdout,
      /^note: command node "c" declares net \(example\.com\), but its OS sandbox cannot filter hosts: it may reach any host$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`pipedreamer validate` defaults to the current directory", async () => {
  const result = await cli(["validate"], { cwd: "examples/routing" });
  assertExit(result, 0);
  assert.match(result.stdout, /routing 1\.0\.0 is valid/);
});

Deno.test("`pipedreamer validate` prints every issue as file:line:column with a hint", async () => {
  const result = await cli(["validate", BROKEN]);
  assertExit(result, 1);
  const located = result.stdout.split("\n").filter((l) => l.startsWith(`${BROKEN}/`));
  const lines = located.map((l) => Number(l.split(":")[1]));
  // name (1), unknown key (3), bad duration (7), missing file (9), unknown edge target (11).
  for (const line of [1, 3, 7, 9, 11]) assert.ok(lines.includes(line), `no issue on line ${line}`);
  assert.match(result.stdout, /^tests\/testdata\/broken\/workflow\.yaml:3:1: .*colour/m);
  assert.ok(result.stdout.includes("\n  hint: "), result.stdout);
  assert.match(result.stdout, /^\d+ errors in workflow$/m);
});

Deno.test("`pipedreamer validate -o json` prints only { valid, errors }", async () => {
  const result = await cli(["validate", BROKEN, "-o", "json"]);
  assertExit(result, 1);
  const report = stdoutJson<{ valid: boolean; errors: Record<string, unknown>[] }>(result);
  assert.equal(report.valid, false);
  assert.ok(report.errors.length >= 5);
  for (const error of report.errors) {
    assert.deepEqual(Object.keys(error).sort(), ["column", "file", "hint", "line", "message"]);
    assert.equal(typeof error.message, "string");
  }
  const colour = report.errors.find((e) => String(e.message).includes("colour"));
  assert.deepEqual(
    { file: colour?.file, line: colour?.line, column: colour?.column },
    { file: `${BROKEN}/workflow.yaml`, line: 3, column: 1 },
  );

  const ok = await cli(["-o", "json", "validate", "examples/hello-world"]);
  assertExit(ok, 0);
  assert.deepEqual(stdoutJson(ok), { valid: true, errors: [] });
});

Deno.test("`pipedreamer validate` reports a missing workflow.yaml and exits 1", async () => {
  const result = await cli(["validate", "tests/testdata/does-not-exist"]);
  assertExit(result, 1);
  assert.match(result.stdout, /workflow\.yaml/);
});

Deno.test("`pipedreamer visualize` prints a Mermaid flowchart by default", async () => {
  const result = await cli(["visualize", "examples/hello-world"]);
  assertExit(result, 0);
  assert.match(result.stdout, /^flowchart/);
  for (const node of ["greet", "shout", "measure", "combine"]) {
    assert.ok(result.stdout.includes(node), node);
  }
});

Deno.test("`pipedreamer visualize --format dot` prints Graphviz", async () => {
  const result = await cli(["visualize", "examples/hello-world", "--format", "dot"]);
  assertExit(result, 0);
  assert.match(result.stdout, /^digraph/);
  assert.match(result.stdout, /"greet" -> "shout"/);
});

Deno.test("`pipedreamer visualize` rejects an unknown format with exit 2", async () => {
  const result = await cli(["visualize", "examples/hello-world", "--format", "svg"]);
  assertExit(result, 2);
  assert.match(result.stderr, /argument 'svg' is invalid/);
  assert.match(result.stderr, /Usage: pipedreamer visualize/);
});

Deno.test("`pipedreamer visualize` of a broken workflow prints its issues and exits 1", async () => {
  const result = await cli(["visualize", BROKEN]);
  assertExit(result, 1);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /workflow\.yaml:3:1: /);
});
