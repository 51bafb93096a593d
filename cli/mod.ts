/**
 * The `pipedreamer` command line: builds the commander program, runs it, and maps every outcome
 * to an exit code (SPEC §5). A command is one file exporting `registerX(program, cli)`; adding a
 * command means adding one line to {@link COMMANDS}.
 *
 * @module
 */

import { Command, CommanderError, Option } from "commander";
import denoJson from "../deno.json" with { type: "json" };
import { setDefaultCommandSandbox } from "../engine/mod.ts";
import {
  type CliContext,
  CliFailure,
  type CliIo,
  ExitCode,
  OutputFormat,
  printError,
} from "./_output.ts";
import { registerInit } from "./cmd_init.ts";
import { registerValidate } from "./cmd_validate.ts";
import { registerVisualize } from "./cmd_visualize.ts";
import { registerTest } from "./cmd_test_fixtures.ts";
import { registerExec } from "./cmd_exec.ts";
import { registerBuild } from "./cmd_build.ts";
import { registerDev } from "./cmd_dev.ts";
import { registerServe } from "./cmd_serve.ts";
import { registerRuns } from "./cmd_runs.ts";
import { registerDlq } from "./cmd_dlq.ts";
import { registerReplay } from "./cmd_replay.ts";
import { registerDeploy } from "./cmd_deploy.ts";
import { registerStatus } from "./cmd_status.ts";
import { registerRunDeployed } from "./cmd_run_deployed.ts";
import { registerLogs } from "./cmd_logs.ts";
import { registerList } from "./cmd_list.ts";
import { registerUndeploy } from "./cmd_undeploy.ts";
import { registerVersions } from "./cmd_versions.ts";
import { registerRollback } from "./cmd_rollback.ts";
import { registerPromote } from "./cmd_promote.ts";
import { registerCluster } from "./cmd_cluster.ts";

export type { CliIo } from "./_output.ts";
export { ExitCode, OutputFormat } from "./_output.ts";

/** Registers one command on the program. */
export type RegisterCommand = (program: Command, cli: CliContext) => void;

/** Every command, in the order `--help` lists them. */
const COMMANDS: RegisterCommand[] = [
  registerInit,
  registerValidate,
  registerVisualize,
  registerTest,
  registerExec,
  registerDev,
  registerServe,
  registerRuns,
  registerDlq,
  registerReplay,
  registerBuild,
  registerDeploy,
  registerStatus,
  registerRunDeployed,
  registerLogs,
  registerList,
  registerUndeploy,
  registerVersions,
  registerRollback,
  registerPromote,
  registerCluster,
];

/** Help is wrapped at a fixed width so it reads the same everywhere (and snapshots hold). */
const HELP_WIDTH = 100;

/** The process's real streams. */
export const processIo: CliIo = {
  stdout: (text) => writeAll(Deno.stdout, text),
  stderr: (text) => writeAll(Deno.stderr, text),
};

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  try {
    while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  } catch (error) {
    // The reader went away (`pipedreamer visualize | head -1`): nothing left to tell it.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}

/**
 * Builds the program with its global flags and every command.
 *
 * @example
 * ```ts
 * const program = buildProgram({ io: processIo, exitCode: 0 });
 * console.log(program.helpInformation());
 * ```
 */
export function buildProgram(cli: CliContext): Command {
  const program = new Command("pipedreamer")
    .description("Build, test and run TypeScript workflow DAGs locally and on Kubernetes")
    .addOption(
      new Option("-n, --namespace <name>", "Kubernetes namespace").default("default"),
    )
    .addOption(new Option("-r, --registry <url>", "OCI registry for images"))
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(Object.values(OutputFormat))
        .default(OutputFormat.Text),
    )
    .addOption(
      new Option("--context <name>", "Kubernetes context (repeatable)")
        .argParser((value: string, previous: string[] | undefined) => [
          ...(previous ?? []),
          value,
        ]),
    )
    .option("--verbose", "print stack traces of errors")
    .option(
      "--unsandboxed-commands",
      "run command nodes without an OS sandbox where bubblewrap cannot run (they get the " +
        "engine's files and network)",
    )
    // `--version` is handled in runCli only as the first argument, so that commands may have a
    // `--version <v>` flag of their own (`rollback <name> --version 1.2.0`).
    .addOption(new Option("--version", "print the version (first argument only)"))
    .helpOption("-h, --help", "print help")
    .helpCommand("help [command]", "print help for a command")
    .showHelpAfterError(true)
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => cli.io.stdout(text),
      writeErr: (text) => cli.io.stderr(text),
      getOutHelpWidth: () => HELP_WIDTH,
      getErrHelpWidth: () => HELP_WIDTH,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  program.hook("preAction", () => {
    if (program.opts().unsandboxedCommands === true) setDefaultCommandSandbox("fallback");
  });
  for (const register of COMMANDS) register(program, cli);
  return program;
}

/**
 * Runs the CLI on `args` (without the program name) and returns the exit code. Never calls
 * `Deno.exit`: main.ts does.
 *
 * @example
 * ```ts
 * Deno.exit(await runCli(Deno.args));
 * ```
 */
export async function runCli(args: string[], io: CliIo = processIo): Promise<number> {
  const cli: CliContext = { io, exitCode: ExitCode.Ok };
  if (args[0] === "--version") {
    io.stdout(`${denoJson.version}\n`);
    return ExitCode.Ok;
  }
  const program = buildProgram(cli);
  try {
    await program.parseAsync(commandVersionArgs(program, args), { from: "user" });
    return cli.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    const verbose = program.opts().verbose === true;
    const message = error instanceof Error ? error.message : String(error);
    printError(cli, `Error: ${message}`);
    if (verbose && error instanceof Error && error.stack) {
      printError(cli, error.stack);
    } else if (!(error instanceof CliFailure)) {
      printError(cli, "(run with --verbose for the stack trace)");
    }
    return ExitCode.Failed;
  }
}

/**
 * `rollback <name> --version 1.0.0`: the program's own `--version` (a flag) would take
 * `--version` and leave `1.0.0` as an operand, so for a command that declares `--version <v>`
 * the pair is joined into `--version=1.0.0`, which only the command knows.
 */
function commandVersionArgs(program: Command, args: string[]): string[] {
  const command = program.commands.find((c) =>
    c.name() === args.find((a) => program.commands.some((x) => x.name() === a))
  );
  if (!command?.options.some((o) => o.long === "--version" && o.required)) return args;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--version" && i + 1 < args.length && !args[i + 1]!.startsWith("-")) {
      out.push(`--version=${args[++i]}`);
    } else out.push(args[i]!);
  }
  return out;
}

/** Help and version requests exit 0; every other commander error is a usage error. */
function commanderExitCode(error: CommanderError): number {
  switch (error.code) {
    case "commander.helpDisplayed":
      return ExitCode.Ok;
    case "commander.help":
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    default:
      return ExitCode.Usage;
  }
}
