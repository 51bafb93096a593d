/**
 * Runs the real CLI in a subprocess, exactly as `./pipedreamer` does (same deno binary, config
 * and permission flags), and compares text with the snapshots in tests/snapshots/.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
/** The deno binary `./pipedreamer` uses. */
export const DENO = `${ROOT}/node_modules/.bin/deno`;

/** The `deno run` flags of `./pipedreamer` (kept in sync by a test that reads the script). */
export const RUN_FLAGS = [
  "run",
  "--quiet",
  "--no-prompt",
  "--config",
  `${ROOT}/deno.json`,
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-import",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--unstable-worker-options",
];

/** What one CLI invocation produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link cli}. */
export interface CliOptions {
  /** @default the repository root */
  cwd?: string;
  /** Extra environment variables. @default none */
  env?: Record<string, string>;
}

/** Runs `pipedreamer <args>` to completion. */
export async function cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const output = await cliCommand(args, options).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The command behind {@link cli}, for tests that talk to the process while it runs. */
export function cliCommand(
  args: string[],
  options: CliOptions & { stdin?: "piped" | "null" } = {},
): Deno.Command {
  return new Deno.Command(DENO, {
    args: [...RUN_FLAGS, `${ROOT}/main.ts`, ...args],
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Asserts the exit code, showing both streams when it differs. */
export function assertExit(result: CliResult, code: number): void {
  assert.equal(
    result.code,
    code,
    `expected exit ${code}, got ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
  );
}

/** Parses stdout as one JSON document (fails when anything else is on stdout). */
export function stdoutJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    throw new assert.AssertionError({
      message: `stdout is not one JSON document: ${(error as Error).message}\n${result.stdout}`,
    });
  }
}

/**
 * Compares `actual` with tests/snapshots/<name>.txt; `UPDATE_SNAPSHOTS=1` rewrites the file
 * instead.
 */
export async function assertSnapshot(name: string, actual: string): Promise<void> {
  const file = `${ROOT}/tests/snapshots/${name}.txt`;
  if (Deno.env.get("UPDATE_SNAPSHOTS") === "1") {
    await Deno.writeTextFile(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    assert.fail(`No snapshot ${file}; create it with UPDATE_SNAPSHOTS=1 deno task test`);
  }
  assert.equal(actual, expected, `snapshot ${name} differs; UPDATE_SNAPSHOTS=1 rewrites it`);
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "pipedreamer-e2e-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}
