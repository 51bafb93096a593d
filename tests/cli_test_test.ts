import assert from "node:assert/strict";
import { ignoreWhenMissing } from "../testing/mod.ts";
import { assertExit, cli, stdoutJson } from "./_cli.ts";

const EXAMPLES = [
  "hello-world",
  "hn-digest",
  "github-digest",
  "pr-digest",
  "routing",
  "retries",
  "subprocess",
  "cluster-health",
  "uptime-prober",
  "webhook-to-queue",
];

async function hasPython(): Promise<boolean> {
  try {
    return (await new Deno.Command("python3", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

const pythonMissing = ignoreWhenMissing(
  !await hasPython(),
  "`pipedreamer test examples/subprocess` needs python3 (apt-get install python3)",
);

for (const example of EXAMPLES) {
  Deno.test({
    name: `\`pipedreamer test examples/${example}\` passes offline`,
    ignore: example === "subprocess" && pythonMissing,
    fn: async () => {
      const result = await cli(["test", `examples/${example}`]);
      assertExit(result, 0);
      const summary = result.stdout.trimEnd().split("\n").at(-1) ?? "";
      const match = summary.match(/^(\d+) passed, 0 failed$/);
      assert.ok(match, `summary line: ${summary}`);
      assert.ok(Number(match[1]) >= 3, summary);
      assert.doesNotMatch(result.stdout, /^✗/m);
    },
  });
}

Deno.test("`pipedreamer test` shows a diff for a wrong expectation and names an unmatched fetch", async () => {
  const result = await cli(["test", "tests/testdata/failing"]);
  assertExit(result, 1);
  assert.match(result.stdout, /^✗ fixtures\/add \(/m);
  assert.match(result.stdout, /^✓ fixtures\/add\.correct \(/m);
  assert.match(result.stdout, /^✗ pipeline\/unmocked \(/m);
  // The diff: expected 5, got 4; unchanged lines stay as context.
  const diff = [
    "✗ fixtures/add",
    "    output does not match expected",
    "    --- expected",
    "    +++ actual",
    "    @@ 2 unchanged lines @@",
    "         2,",
    "         2",
    "       ],",
    '    -  "sum": 5',
    '    +  "sum": 4',
    "     }",
  ].join("\n");
  assert.ok(result.stdout.replace(/ \(\d+ms\)/g, "").includes(diff), result.stdout);
  assert.match(result.stdout, /unmatched request: GET github \/user\/repos/);
  assert.doesNotMatch(result.stdout + result.stderr, /ghp_secret_in_fixture/);
  assert.equal(result.stdout.trimEnd().split("\n").at(-1), "1 passed, 2 failed");
});

Deno.test("`pipedreamer test -o json` prints only the report document", async () => {
  const result = await cli(["test", "tests/testdata/failing", "-o", "json"]);
  assertExit(result, 1);
  const report = stdoutJson<{
    passed: number;
    failed: number;
    results: { name: string; passed: boolean; diff?: string; unmatched: string[] }[];
  }>(result);
  assert.equal(report.passed, 1);
  assert.equal(report.failed, 2);
  const byName = Object.fromEntries(report.results.map((r) => [r.name, r]));
  assert.match(byName["fixtures/add"]?.diff ?? "", /\+ {2}"sum": 4/);
  assert.deepEqual(byName["pipeline/unmocked"]?.unmatched, ["GET github /user/repos"]);
});

Deno.test("`pipedreamer test <dir>/<node>` runs only that node's fixtures", async () => {
  const result = await cli(["test", "examples/routing/classify"]);
  assertExit(result, 0);
  const names = result.stdout.split("\n").filter((l) => l.startsWith("✓")).map((l) =>
    l.split(" ")[1]
  );
  assert.deepEqual(names, [
    "fixtures/classify",
    "fixtures/classify.feature",
    "fixtures/classify.question",
  ]);
  assert.match(result.stdout, /^3 passed, 0 failed$/m);
});

Deno.test("`pipedreamer test --pipeline` runs only pipeline fixtures", async () => {
  const result = await cli(["test", "examples/hello-world", "--pipeline"]);
  assertExit(result, 0);
  const lines = result.stdout.split("\n").filter((l) => l.startsWith("✓"));
  assert.ok(lines.length === 3 && lines.every((l) => l.startsWith("✓ pipeline/")), result.stdout);
});

Deno.test("`pipedreamer test` with an unknown node is a usage error", async () => {
  const result = await cli(["test", "examples/routing/nope"]);
  assertExit(result, 2);
  assert.match(result.stderr, /Cannot test node "nope": workflow "routing" has no such node/);
});

Deno.test("`pipedreamer test <dir>/<node> --pipeline` is a usage error", async () => {
  const result = await cli(["test", "examples/routing/classify", "--pipeline"]);
  assertExit(result, 2);
  assert.match(result.stderr, /Usage: pipedreamer test/);
});
