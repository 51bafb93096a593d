import assert from "node:assert/strict";
import { assertExit, assertSnapshot, cli, ROOT, RUN_FLAGS } from "./_cli.ts";

const COMMANDS = ["init", "validate", "visualize", "test", "exec", "dlq", "replay"];

Deno.test("`pipedreamer --help` lists the global flags and every command", async () => {
  const result = await cli(["--help"]);
  assertExit(result, 0);
  assert.equal(result.stderr, "");
  await assertSnapshot("help", result.stdout);
});

for (const command of COMMANDS) {
  Deno.test(`\`pipedreamer ${command} --help\` prints the command's help`, async () => {
    const result = await cli([command, "--help"]);
    assertExit(result, 0);
    await assertSnapshot(`help_${command}`, result.stdout);
    const viaHelp = await cli(["help", command]);
    assertExit(viaHelp, 0);
    assert.equal(viaHelp.stdout, result.stdout);
  });
}

Deno.test("`pipedreamer --version` prints the version from deno.json", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const result = await cli(["--version"]);
  assertExit(result, 0);
  assert.equal(result.stdout, `${version}\n`);
});

for (
  const [name, args, error, helpOf] of [
    ["an unknown command", ["frobnicate"], "error: unknown command 'frobnicate'", "pipedreamer"],
    ["an unknown flag", ["validate", "--frob"], "error: unknown option '--frob'", "validate"],
    ["a bad -o value", ["-o", "xml", "validate"], "argument 'xml' is invalid", "pipedreamer"],
    ["a missing argument", ["init"], "error: missing required argument 'name'", "init"],
    ["an extra argument", ["validate", "a", "b"], "error: too many arguments", "validate"],
    ["no command at all", [], "Usage: pipedreamer", "pipedreamer"],
  ] as const
) {
  Deno.test(`\`pipedreamer\` exits 2 with the help on stderr for ${name}`, async () => {
    const result = await cli([...args]);
    assertExit(result, 2);
    assert.equal(result.stdout, "");
    assert.ok(result.stderr.includes(error), result.stderr);
    const usage = helpOf === "pipedreamer"
      ? "Usage: pipedreamer [options] [command]"
      : `Usage: pipedreamer ${helpOf}`;
    assert.ok(result.stderr.includes(usage), result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });
}

Deno.test("./pipedreamer runs the CLI with the same deno flags as these tests", async () => {
  const script = await Deno.readTextFile(`${ROOT}/pipedreamer`);
  for (const flag of RUN_FLAGS.filter((f) => f.startsWith("--"))) {
    assert.ok(script.includes(flag), `./pipedreamer lacks ${flag}`);
  }
  const output = await new Deno.Command(`${ROOT}/pipedreamer`, { args: ["--version"] }).output();
  assert.equal(output.code, 0);
});
