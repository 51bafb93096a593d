/**
 * Runs `deno bundle` for one entry module: a self-contained ES module for the Deno platform
 * with every npm:, jsr: and https: import inlined, so nothing is resolved at runtime.
 *
 * @module
 */

import { join } from "node:path";

/** Options of {@link denoBundle}. */
export interface DenoBundleOptions {
  /** The deno executable. @default denoExecutable() */
  deno?: string;
  /** Working directory (module comments in the output are relative to it). */
  cwd: string;
  /** deno.json to use; undefined means `--no-config`. */
  config?: string;
  /**
   * Lockfile handling: a path checks against that lockfile and fails when it is out of date
   * (`--frozen-lockfile`); `false` uses none and writes none; undefined is deno's default.
   */
  lock?: string | false;
  /** Cancels the bundler. */
  signal?: AbortSignal;
}

/**
 * The deno executable that bundles: this process's own when it runs from source, else env
 * `DENO_BIN` or `deno` on PATH (a compiled `pipedreamer` cannot bundle by itself).
 */
export function denoExecutable(): string {
  if (!Deno.build.standalone) return Deno.execPath();
  return Deno.env.get("DENO_BIN") ?? "deno";
}

/**
 * Bundles `entry` and returns the JavaScript.
 *
 * @throws {Error} "Cannot bundle …" with deno's diagnostics when bundling fails
 */
export async function denoBundle(entry: string, options: DenoBundleOptions): Promise<Uint8Array> {
  const outDir = await Deno.makeTempDir({ prefix: "pipedreamer-bundle-" });
  const out = join(outDir, "bundle.js");
  const deno = options.deno ?? denoExecutable();
  try {
    const args = [
      "bundle",
      "--quiet",
      "--platform=deno",
      "--format=esm",
      "--packages=bundle",
      ...(options.config ? ["--config", options.config] : ["--no-config"]),
      ...(options.lock === false
        ? ["--no-lock"]
        : options.lock
        ? ["--lock", options.lock, "--frozen-lockfile"]
        : []),
      "--output",
      out,
      entry,
    ];
    let result: Deno.CommandOutput;
    try {
      result = await new Deno.Command(deno, {
        args,
        cwd: options.cwd,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
        signal: options.signal,
      }).output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          `Cannot bundle "${entry}": no deno executable at "${deno}"; install Deno or set DENO_BIN`,
          { cause: error },
        );
      }
      throw error;
    }
    if (!result.success) {
      const diagnostics = new TextDecoder().decode(result.stderr).trim();
      throw new Error(`Cannot bundle "${entry}": deno bundle failed\n${diagnostics}`);
    }
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}
