/**
 * Helpers of the cluster command tests: the real CLI in a subprocess with a kubeconfig, and a
 * recursive copy of a test workflow.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs `pipedreamer <args>` from source with `KUBECONFIG=kubeconfig`. */
export async function pipedreamerWith(
  kubeconfig: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-all",
      "--unstable-worker-options",
      "--config",
      join(ROOT, "deno.json"),
      join(ROOT, "main.ts"),
      ...args,
    ],
    env: { KUBECONFIG: kubeconfig, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Copies a directory tree. */
export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(join(from, entry.name), join(to, entry.name));
    else await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

/** Makes version 1.1.0 of the hello-k8s test workflow, with a changed greeting node. */
export async function bumpVersion(dir: string): Promise<void> {
  const yaml = await Deno.readTextFile(join(dir, "workflow.yaml"));
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    yaml.replace('version: "1.0.0"', 'version: "1.1.0"'),
  );
  const node = await Deno.readTextFile(join(dir, "nodes/greet.ts"));
  await Deno.writeTextFile(
    join(dir, "nodes/greet.ts"),
    node.replace("${input?.name", "dear ${input?.name"),
  );
}

/** Asserts a CLI result succeeded, showing its output when not. */
export function ok(result: { code: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
}
