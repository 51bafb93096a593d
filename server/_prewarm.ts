/**
 * Starts the sandboxes of a workflow's first nodes while `serve` starts (`NodeRunner.prepare`),
 * so that the first run does not wait for a sandbox process to boot and load its module.
 *
 * @module
 */

import type { CompiledWorkflow, NodeRunner } from "../engine/mod.ts";

/** Sandboxes started ahead at most (the pool keeps a few processes). */
const MAX_PREWARMED = 4;

/**
 * Prepares the sandboxes of the first nodes (topological order) in a temp dir of the runner,
 * then gives the dir back for a later run. Nodes of `capabilities.k8s` are left to their run.
 * Never rejects: a run starts whatever sandbox is still missing itself.
 */
export async function prewarmSandboxes(
  runner: NodeRunner,
  workflow: CompiledWorkflow,
): Promise<void> {
  const { prepare, makeTmpDir } = runner;
  if (!prepare || !makeTmpDir) return;
  let tmpDir: string | undefined;
  try {
    tmpDir = await makeTmpDir.call(runner, `prewarm-${crypto.randomUUID()}`);
    const dir = tmpDir;
    const nodes = workflow.order.map((id) => workflow.nodes[id]!)
      .filter((node) => node.kind === "module" && node.capabilities.k8s === undefined)
      .slice(0, MAX_PREWARMED);
    await Promise.all(
      nodes.map((node) => prepare.call(runner, { workflow, node, tmpDir: dir, k8s: undefined })),
    );
  } catch {
    // Nothing started ahead: the first run starts its sandboxes.
  } finally {
    if (tmpDir !== undefined) await runner.releaseTmpDir?.(tmpDir).catch(() => {});
  }
}
