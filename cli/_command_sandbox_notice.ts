/**
 * The start-up line of `dev` and `serve` about command nodes: whether they run in bubblewrap
 * here, are refused (and why: bubblewrap missing, or its namespaces refused by the kernel or
 * the container runtime), or run unsandboxed because of `--unsandboxed-commands`.
 *
 * @module
 */

import { commandSandboxProblem, defaultCommandSandbox } from "../engine/mod.ts";

/** The line, or undefined when command nodes are never sandboxed (a runner made with "none"). */
export async function commandSandboxNotice(): Promise<string | undefined> {
  const sandbox = defaultCommandSandbox();
  if (sandbox === "none") return undefined;
  const problem = await commandSandboxProblem();
  if (problem === undefined) return "command nodes run in bubblewrap (bwrap)";
  return sandbox === "fallback"
    ? `command nodes run WITHOUT an OS sandbox (${problem}): the engine was started with ` +
      "--unsandboxed-commands"
    : `command nodes are refused: no OS sandbox here (${problem}); start the engine with ` +
      "--unsandboxed-commands to run them without one";
}
