/**
 * Shared plumbing of every command: where text goes, the global options, the errors that map
 * to exit codes, and the formatting of workflow issues. Only cli/ prints or exits.
 *
 * @module
 */

import type { Command } from "commander";
import { isAbsolute, join } from "node:path";
import { loadWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import type { CompiledWorkflow, WorkflowIssue } from "../engine/mod.ts";

/** Process exit codes of SPEC §5. */
export const ExitCode = {
  Ok: 0,
  /** The work failed: invalid workflow, failed run, failed test. */
  Failed: 1,
  /** Usage error: unknown command or flag, bad flag value, missing argument. */
  Usage: 2,
} as const;
/** One of {@link ExitCode}. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** Values of the global `-o/--output` flag. */
export const OutputFormat = {
  Text: "text",
  Json: "json",
  /** Accepted only by commands that print manifests (`deploy --dry-run`). */
  Yaml: "yaml",
} as const;
/** One of {@link OutputFormat}. */
export type OutputFormat = typeof OutputFormat[keyof typeof OutputFormat];

/** The global flags of SPEC §5, as seen by every command. */
export interface GlobalOptions {
  namespace: string;
  registry?: string;
  output: OutputFormat;
  /** Kubernetes contexts (`--context`, repeatable). */
  context: string[];
  verbose: boolean;
}

/** Where a command writes; the real process streams in main.ts, buffers in unit tests. */
export interface CliIo {
  /** Writes to stdout as is. */
  stdout(text: string): void;
  /** Writes to stderr as is. */
  stderr(text: string): void;
}

/** What every command's action receives besides its arguments. */
export interface CliContext {
  io: CliIo;
  /** Set by a command's action; returned by `runCli()`. */
  exitCode: number;
}

/**
 * The work failed for a reason the user can act on: printed as one line (its message) and
 * exit 1, with no stack trace unless `--verbose`.
 */
export class CliFailure extends Error {
  override name = "CliFailure";
}

/** Writes one line to stdout. */
export function printLine(cli: CliContext, line = ""): void {
  cli.io.stdout(`${line}\n`);
}

/** Writes one line to stderr (logs, progress, errors). */
export function printError(cli: CliContext, line: string): void {
  cli.io.stderr(`${line}\n`);
}

/** Writes a JSON document to stdout: the only thing on stdout with `-o json`. */
export function printJson(cli: CliContext, value: unknown): void {
  cli.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Options of {@link globalOptions}. */
export interface GlobalOptionsOptions {
  /** The command can print YAML (`-o yaml`); elsewhere `-o yaml` is a usage error. @default false */
  yaml?: boolean;
}

/** Reads the global flags from any command (they are accepted before or after it). */
export function globalOptions(command: Command, options: GlobalOptionsOptions = {}): GlobalOptions {
  const opts = command.optsWithGlobals();
  if (opts.output === OutputFormat.Yaml && !options.yaml) {
    usageError(command, `"-o yaml" is only supported by "deploy --dry-run"; use "-o json"`);
  }
  return {
    namespace: String(opts.namespace ?? "default"),
    registry: typeof opts.registry === "string" ? opts.registry : undefined,
    output: opts.output === OutputFormat.Json || opts.output === OutputFormat.Yaml
      ? opts.output
      : OutputFormat.Text,
    context: Array.isArray(opts.context) ? opts.context.map(String) : [],
    verbose: opts.verbose === true,
  };
}

/** True when the global `-o` asks for JSON. */
export function wantsJson(globals: GlobalOptions): boolean {
  return globals.output === "json";
}

/**
 * Fails the command as a usage error: prints `error: <message>` and the command's help to
 * stderr, exit 2. Never returns.
 */
export function usageError(command: Command, message: string): never {
  return command.error(`error: ${message}`, {
    exitCode: ExitCode.Usage,
    code: "pipedreamer.usage",
  });
}

/** One issue as `file:line:column: message` plus an indented hint line. */
export function formatIssue(issue: WorkflowIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return issue.hint
    ? `${where}: ${issue.message}\n  hint: ${issue.hint}`
    : `${where}: ${issue.message}`;
}

/** Every issue of a workflow that failed to load, then a summary line. */
export function formatIssues(issues: WorkflowIssue[]): string {
  const n = issues.length;
  const summary = `${n} ${n === 1 ? "error" : "errors"} in workflow`;
  return [...issues.map(formatIssue), summary].join("\n");
}

/** Issue paths as the user would open them from the current directory: `<dir>/<file>`. */
export function relocateIssues(dir: string, issues: WorkflowIssue[]): WorkflowIssue[] {
  return issues.map((issue) => ({
    ...issue,
    file: isAbsolute(issue.file) ? issue.file : join(dir, issue.file),
  }));
}

/**
 * Loads the workflow in `dir`; a {@link WorkflowSyntaxError} becomes its issues on stderr and
 * exit 1 (undefined is returned), so every command reports a broken workflow like `validate`.
 */
export async function loadWorkflowOrReport(
  cli: CliContext,
  dir: string,
): Promise<CompiledWorkflow | undefined> {
  try {
    return await loadWorkflow(dir);
  } catch (error) {
    if (error instanceof WorkflowSyntaxError) {
      printError(cli, formatIssues(relocateIssues(dir, error.issues)));
      cli.exitCode = ExitCode.Failed;
      return undefined;
    }
    throw error;
  }
}

/** Milliseconds as a short human duration: `12ms`, `1.5s`, `2m 3s`. */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) {
    const seconds = ms / 1000;
    return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(ms < 10_000 ? 2 : 1)}s`;
  }
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m ${Math.round((ms % 60_000) / 1000)}s`;
}
