import assert from "node:assert/strict";
import { assertExit, cli, cliCommand, stdoutJson, tempDir } from "./_cli.ts";

const HELLO = "examples/hello-world";
const EXPECTED = { message: "HELLO, ADA!", letters: 3, words: 2 };

Deno.test("`pipedreamer exec` prints the result on stdout and progress on stderr", async () => {
  const result = await cli(["exec", HELLO, "--input", '{"name":"Ada"}']);
  assertExit(result, 0);
  assert.deepEqual(JSON.parse(result.stdout), EXPECTED);
  for (const node of ["greet", "shout", "measure", "combine"]) {
    assert.match(result.stderr, new RegExp(`^▶ ${node}$`, "m"));
    assert.match(result.stderr, new RegExp(`^✓ ${node} \\d`, "m"));
  }
  assert.match(result.stderr, /^ {2}\[greet\] info {2}greeting built {"name":"Ada"}$/m);
  assert.match(result.stderr, /^Run [\w-]+ succeeded in \d+ms$/m);
});

Deno.test("`pipedreamer exec -o json` prints only the run record", async () => {
  const result = await cli(["exec", HELLO, "--input", '{"name":"Ada"}', "-o", "json"]);
  assertExit(result, 0);
  const record = stdoutJson(result);
  assert.equal(record.status, "succeeded");
  assert.equal(record.workflow, "hello-world");
  assert.equal(record.version, "1.0.0");
  assert.deepEqual(record.input, { name: "Ada" });
  assert.deepEqual(record.result, EXPECTED);
  assert.equal(typeof record.runId, "string");
  assert.equal(typeof record.durationMs, "number");
  const nodes = record.nodes as Record<string, { status: string; attempts: number }>;
  assert.deepEqual(Object.keys(nodes).sort(), ["combine", "greet", "measure", "shout"]);
  for (const node of Object.values(nodes)) {
    assert.equal(node.status, "succeeded");
    assert.equal(node.attempts, 1);
  }
  // Logs stay machine-readable on stderr: one JSON object per line.
  const logs = result.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  assert.ok(logs.some((l) => l.node === "greet" && l.msg === "greeting built"));
});

Deno.test("`pipedreamer exec --input @file` reads the input from a file", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/input.json`, '{ "name": "Ada" }');
  const result = await cli(["exec", HELLO, "--input", `@${tmp.path}/input.json`]);
  assertExit(result, 0);
  assert.deepEqual(JSON.parse(result.stdout), EXPECTED);
});

for (
  const [name, input, message] of [
    ["bad JSON", "{name:1}", /Cannot parse --input as JSON: .*(position|line|column)/],
    ["a missing file", "@/nonexistent/input.json", /Cannot read --input file/],
  ] as const
) {
  Deno.test(`\`pipedreamer exec\` exits 2 for ${name} in --input`, async () => {
    const result = await cli(["exec", HELLO, "--input", input]);
    assertExit(result, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, message);
    assert.match(result.stderr, /Usage: pipedreamer exec/);
  });
}

Deno.test("`pipedreamer exec` rejects input that fails inputSchema with exit 1", async () => {
  const result = await cli(["exec", HELLO, "--input", '{"nam":"Ada"}']);
  assertExit(result, 1);
  assert.match(result.stderr, /input does not match inputSchema/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

Deno.test("`pipedreamer exec` of a failing run exits 1 and names the node", async () => {
  const result = await cli(["exec", "examples/retries", "--input", '{"failures":9,"slowMs":1}']);
  assertExit(result, 1);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /^Run failed: node "flaky": flaky: simulated failure on attempt 4 of 10 needed$/m,
  );
  assert.match(result.stderr, /^▶ flaky \(attempt 4\)$/m);
  assert.match(result.stderr, /^▶ notify-failure$/m);
});

Deno.test("`pipedreamer exec --target` runs only that node and its ancestors", async () => {
  const result = await cli(["exec", HELLO, "--target", "shout", "-o", "json"]);
  assertExit(result, 0);
  const record = stdoutJson(result);
  assert.deepEqual(Object.keys(record.nodes as object).sort(), ["greet", "shout"]);
  assert.deepEqual(record.result, { shouted: "HELLO, WORLD!" });
});

Deno.test("`pipedreamer exec --target` with an unknown node is a usage error", async () => {
  const result = await cli(["exec", HELLO, "--target", "nope"]);
  assertExit(result, 2);
  assert.match(result.stderr, /Cannot target node "nope"/);
});

Deno.test("`pipedreamer exec --dry-run` prints the plan and runs nothing", async () => {
  const result = await cli(["exec", "examples/retries", "--dry-run"]);
  assertExit(result, 0);
  assert.equal(result.stderr, "");
  const lines = result.stdout.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^Plan for retries 1\.0\.0: 3 nodes; dry run, nothing executed$/);
  assert.match(
    lines[1] ?? "",
    /^ {2}1\. flaky +← \(run input\) +module, timeout 5s, retries 3, memory 256Mi$/,
  );
  assert.match(
    lines[2] ?? "",
    /^ {2}2\. slow +← \(run input\) +.*timeout 300ms, retries 0, memory 256Mi, allowFailure/,
  );
  assert.match(lines[3] ?? "", /^ {2}3\. report +← flaky, slow +/);
  assert.match(lines[4] ?? "", /^ {2}on error: notify-failure/);

  const json = await cli(["exec", "examples/subprocess", "--dry-run", "-o", "json"]);
  assertExit(json, 0);
  const plan = stdoutJson<{ steps: { node: string; kind: string; capabilities: unknown }[] }>(json);
  assert.deepEqual(plan.steps.map((s) => s.node), ["parse", "stats", "format"]);
  assert.deepEqual(plan.steps[1], {
    ...plan.steps[1],
    kind: "command",
    capabilities: { net: [], run: ["python3"] },
  });
  assert.equal((plan.steps[1] as { memoryMiB?: number }).memoryMiB, undefined);
  assert.equal((plan.steps[0] as { memoryMiB?: number }).memoryMiB, 256);
});

Deno.test("`pipedreamer exec` and `test` refuse a node file that does not compile, as validate says", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-exec-syntax-" });
  try {
    await Deno.mkdir(`${dir}/nodes`);
    await Deno.writeTextFile(
      `${dir}/workflow.yaml`,
      "name: syntax\nversion: 1.0.0\nnodes:\n  a: { path: ./nodes/a.ts }\n",
    );
    await Deno.writeTextFile(`${dir}/nodes/a.ts`, "const x = ;\nexport default () => x;\n");
    const validate = await cli(["validate", dir]);
    const message = `${dir}/nodes/a.ts:1:11: Syntax error: Expression expected`;
    assert.ok(validate.stdout.startsWith(message), validate.stdout);
    for (const command of ["exec", "test"]) {
      const result = await cli([command, dir]);
      assertExit(result, 1);
      assert.equal(result.stdout, "");
      assert.ok(result.stderr.startsWith(message), `${command}: ${result.stderr}`);
    }
    const json = await cli(["exec", dir, "-o", "json"]);
    assertExit(json, 1);
    for (const line of json.stderr.trim().split("\n")) JSON.parse(line);
    // A run that goes through: progress, logs and the summary are JSON lines too.
    const ok = await cli(["exec", "examples/retries", "-o", "json"]);
    assertExit(ok, 0);
    const lines = ok.stderr.trim().split("\n");
    assert.ok(lines.length > 3, ok.stderr);
    for (const line of lines) assert.equal(typeof JSON.parse(line).msg, "string", line);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`pipedreamer exec --dry-run` shows concurrency.key and the input's key value", async () => {
  const dir = "examples/webhook-to-queue";
  const result = await cli(["exec", dir, "--dry-run", "--input", `@${dir}/testdata/push.json`]);
  assertExit(result, 0);
  assert.equal(
    result.stdout.trimEnd().split("\n").at(-1),
    '  runs in dev/serve: per key /repository/full_name (this input: "octo-org/hello"): ' +
      "maxRuns 1, queueLimit 100, append; maxRunsTotal 4 over all keys",
  );
  const empty = await cli(["exec", dir, "--dry-run", "-o", "json"]);
  assertExit(empty, 0);
  const plan = stdoutJson<{ concurrency: unknown; concurrencyKey: string }>(empty);
  assert.deepEqual(plan.concurrency, {
    maxRuns: 1,
    queueLimit: 100,
    strategy: "append",
    startDelayMs: 0,
    key: "/repository/full_name",
    maxRunsTotal: 4,
  });
  assert.equal(plan.concurrencyKey, "", "no value at the pointer: the empty key");
  const plain = await cli(["exec", "examples/retries", "--dry-run"]);
  assert.match(plain.stdout, /^ {2}runs in dev\/serve: maxRuns \d+, queueLimit \d+, append$/m);
});

Deno.test("`pipedreamer exec` cancels the run on SIGINT and exits 1", async () => {
  const child = cliCommand(["exec", "tests/testdata/slow", "-o", "json"]).spawn();
  const decoder = new TextDecoder();
  let stderr = "";
  const reader = child.stderr.getReader();
  // Wait on the condition (the node is running and has logged), never on a timer.
  while (!stderr.includes("waiting for cancellation")) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += decoder.decode(value);
  }
  child.kill("SIGINT");
  const [status, stdout] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        stderr += decoder.decode(value);
      }
    })(),
  ]);
  assert.equal(status.code, 1, stderr);
  const record = JSON.parse(stdout);
  assert.equal(record.status, "cancelled");
  assert.equal(record.nodes.wait.status, "cancelled");
  assert.match(stderr, /Run cancelled/);
});

Deno.test("`pipedreamer exec` prints one line for an error, and its stack only with --verbose", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/project`;
  assertExit(await cli(["init", dir]), 0);
  await Deno.writeTextFile(`${dir}/.secrets.yaml`, "github: [unclosed\n");
  const plain = await cli(["exec", dir]);
  assertExit(plain, 1);
  assert.match(plain.stderr, /^Error: Cannot load secrets: /m);
  assert.doesNotMatch(plain.stderr, /\n\s+at /);
  const verbose = await cli(["exec", dir, "--verbose"]);
  assertExit(verbose, 1);
  assert.match(verbose.stderr, /^Error: Cannot load secrets: /m);
  assert.match(verbose.stderr, /\n\s+at /);
});
