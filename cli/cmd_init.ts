/**
 * `pipedreamer init <name>`: scaffolds a project that validates, tests and type-checks at once.
 *
 * @module
 */

import type { Command } from "commander";
import { basename, dirname, join, resolve } from "node:path";
import {
  type CliContext,
  CliFailure,
  ExitCode,
  globalOptions,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";
import { scaffoldFiles } from "./_scaffold.ts";
import { checkWorkflowName } from "../engine/mod.ts";

/** Registers `init`. */
export function registerInit(program: Command, cli: CliContext): void {
  program
    .command("init")
    .description("scaffold a new workflow project in <name>/")
    .argument("<name>", "project directory; its last segment is the workflow name")
    .action(async (target: string, _opts: unknown, command: Command) => {
      const name = basename(resolve(target));
      // The compiler's own rule, so a scaffold always validates.
      const problem = checkWorkflowName(name);
      if (problem) {
        usageError(command, `Cannot create workflow: ${problem.message}; ${problem.hint}`);
      }
      const dir = resolve(target);
      await assertEmptyOrMissing(dir);
      const files = scaffoldFiles(name);
      for (const [path, text] of Object.entries(files)) {
        const file = join(dir, path);
        await Deno.mkdir(dirname(file), { recursive: true });
        await Deno.writeTextFile(file, text);
      }
      if (globalOptions(command).output === "json") {
        printJson(cli, { name, dir, files: Object.keys(files) });
      } else {
        printLine(cli, `Created workflow "${name}" in ${target}`);
        for (const path of Object.keys(files)) printLine(cli, `  ${path}`);
        printLine(cli);
        printLine(cli, "Next:");
        printLine(cli, `  pipedreamer validate ${target}`);
        printLine(cli, `  pipedreamer test ${target}`);
        printLine(cli, `  pipedreamer exec ${target} --input '{"name":"Ada"}'`);
      }
      cli.exitCode = ExitCode.Ok;
    });
}

async function assertEmptyOrMissing(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isDirectory) {
    throw new CliFailure(`Cannot create project in "${dir}": a file with that name exists`);
  }
  for await (const _ of Deno.readDir(dir)) {
    throw new CliFailure(
      `Cannot create project in "${dir}": the directory is not empty; choose a new name or ` +
        `remove it`,
    );
  }
}
