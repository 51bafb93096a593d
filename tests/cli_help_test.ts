import assert from "node:assert/strict";
import type { Command } from "commander";
import { buildProgram } from "../cli/mod.ts";
import { assertExit, assertSnapshot, cli, ROOT, RUN_FLAGS } from "./_cli.ts";

const COMMANDS = ["init", "validate", "visualize", "test", "exec", "dlq", "replay"];

/** Every command and sub-command path registered on the real program (e.g. ["runs", "list"]). */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

const PROGRAM = buildProgram({ io: { stdout: () => {}, stderr: () => {} }, exitCode: 0 });
const ALL_COMMANDS = commandPaths(PROGRAM);
const snapshotName = (path: string[]) => ["help", ...path].join("_");

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

Deno.test("the help snapshots cover every registered command, and only those", async () => {
  for (const name of COMMANDS) {
    assert.ok(ALL_COMMANDS.some((path) => path.join(" ") === name), `no command ${name}`);
  }
  const expected = new Set(["help", ...ALL_COMMANDS.map(snapshotName)]);
  const onDisk = new Set<string>();
  for await (const entry of Deno.readDir(`${ROOT}/tests/snapshots`)) {
    const match = /^(help(?:_.*)?)\.txt$/.exec(entry.name);
    if (match) onDisk.add(match[1]!);
  }
  const missing = [...expected].filter((name) => !onDisk.has(name));
  const orphaned = [...onDisk].filter((name) => !expected.has(name));
  assert.deepEqual(missing, [], "missing help snapshots; UPDATE_SNAPSHOTS=1 writes them");
  assert.deepEqual(orphaned, [], "help snapshots of no registered command");
});

for (const path of ALL_COMMANDS) {
  Deno.test(`\`pipedreamer ${path.join(" ")} --help\` matches its snapshot`, async () => {
    const result = await cli([...path, "--help"]);
    assertExit(result, 0);
    assert.equal(result.stderr, "");
    assert.ok(result.stdout.startsWith(`Usage: pipedreamer ${path.join(" ")}`), result.stdout);
    await assertSnapshot(snapshotName(path), result.stdout);
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
