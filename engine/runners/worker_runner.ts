/**
 * The sandboxed runner of module nodes (SPEC §4): each node runs in a Deno Worker whose
 * permissions derive from its capabilities (see engine/runners/_permissions.ts).
 *
 * Workers are pooled by permission signature: nodes with identical capabilities (Deno
 * permissions and `capabilities.k8s` rules) in the same workflow directory share one warm
 * worker, across attempts and runs, so a warm call costs a message round trip rather than an
 * isolate start. A worker runs several calls at once.
 *
 * `ctx.k8s` calls are posted to this side and answered by the call's `k8s` transport: the
 * Kubernetes credentials never enter a worker.
 *
 * Writes: a worker may write one directory. Per-run temp dirs made by `makeTmpDir()` live under
 * one runner-owned base directory, and workers get write access to that base — so a node can
 * write into the temp dirs of other runs of nodes with the same permissions (never outside the
 * base). A `tmpDir` made elsewhere gets workers of its own, with write access to it alone.
 * A run dir given back empty (`releaseTmpDir()`) is handed to a later run instead of being
 * removed and made again.
 *
 * Imports: `file:` modules must lie in the workflow directory (or the write directory), since
 * loading them needs read permission; `npm:` packages load from the Deno cache without any
 * permission (Deno's loader, not the node, reads them), so no read access to DENO_DIR is
 * granted; `https:` imports need the host in `capabilities.net`. Bare specifiers resolve with
 * the engine's import map, not the workflow's deno.json. A changed code hash re-imports the
 * node file only: modules it imports stay cached until the worker is replaced.
 *
 * Limits: a worker that exhausts its heap takes the whole process down (Deno has no per-worker
 * heap limit).
 *
 * Requires `--unstable-worker-options`, and `--no-prompt` when run from a terminal (otherwise
 * Deno asks the operator about a denied access instead of failing the node).
 *
 * @module
 */

import { type SandboxDirs, workerPermissions } from "./_permissions.ts";
import { type ModuleRunner, SandboxPool } from "./_sandbox_pool.ts";
import { SandboxWorker } from "./_sandbox_worker.ts";
import type { CompiledNode } from "../workflow_model.ts";
import type { Clock, NodeCall } from "../runner_protocol.ts";

/** Options of {@link createWorkerRunner}. */
export interface WorkerRunnerOptions {
  /**
   * How long a node may ignore `ctx.signal` after a timeout or cancellation before it is
   * failed and its worker stopped.
   * @default 500
   */
  graceMs?: number;
  /** Time source of the grace period. @default the system timers */
  clock?: Clock;
  /**
   * Base directory of the per-run temp dirs of `makeTmpDir()`; created when missing.
   * @default a new temp dir, made on first use and removed by `close()`
   */
  tmpBase?: string;
  /** Workers kept; beyond it the least recently used idle worker is stopped. @default 16 */
  maxWorkers?: number;
  /**
   * Changed node files a worker re-imports before it is replaced (every imported version
   * stays in the worker's memory).
   * @default 64
   */
  maxModuleVersions?: number;
  /**
   * How long an idle worker keeps its thread awake for the next call, in microseconds. On a
   * virtual machine, waking a thread whose CPU went idle costs tens of microseconds, more
   * than the rest of a warm call: a chain's next node usually comes within this window.
   * 0 lets the thread sleep at once.
   * @default 100
   */
  idleSpinUs?: number;
}

/** The worker runner: a {@link ModuleRunner} (it makes per-run temp dirs its workers can write). */
export type WorkerRunner = ModuleRunner;

/** A node's worker permissions and pool key. */
interface Sandbox {
  dirs: SandboxDirs;
  permissions: Deno.PermissionOptionsObject;
  key: string;
  k8s: boolean;
}

/**
 * Creates the sandboxed worker runner for module nodes.
 *
 * @throws {TypeError} From `run()`, for a node that is not a module node.
 * @example
 * ```ts
 * import { createWorkerRunner } from "./worker_runner.ts";
 * const runner = createWorkerRunner();
 * try {
 *   // const { output } = await runner.run(call, AbortSignal.timeout(call.node.timeoutMs));
 * } finally {
 *   await runner.close();
 * }
 * ```
 */
export function createWorkerRunner(options: WorkerRunnerOptions = {}): WorkerRunner {
  const graceMs = options.graceMs ?? 500;
  const idleSpinUs = options.idleSpinUs ?? 100;
  const pool = new SandboxPool<SandboxWorker>({
    max: options.maxWorkers ?? 16,
    maxModuleVersions: options.maxModuleVersions ?? 64,
    tmpBase: options.tmpBase,
    name: "the worker runner",
  });
  const sandboxes = new WeakMap<CompiledNode, Sandbox>();

  /** The sandbox of a node, computed once per node object, workflow dir, write dir and k8s. */
  function sandboxOf(call: NodeCall, writeDir: string): Sandbox {
    const k8s = call.k8s !== undefined;
    const cached = sandboxes.get(call.node);
    if (
      cached && cached.dirs.workflowDir === call.workflow.dir &&
      cached.dirs.writeDir === writeDir &&
      cached.k8s === k8s
    ) return cached;
    const dirs: SandboxDirs = { workflowDir: call.workflow.dir, writeDir };
    const permissions = workerPermissions(call.node.capabilities, dirs);
    // Nodes with other Kubernetes rules get other workers: code sharing a worker can speak
    // for each other's calls, so only nodes with the same grants may share one.
    const key = JSON.stringify([permissions, k8s ? call.node.capabilities.k8s : null]);
    const sandbox = { dirs, permissions, key, k8s };
    sandboxes.set(call.node, sandbox);
    return sandbox;
  }

  function workerFor(call: NodeCall): SandboxWorker {
    const { dirs, permissions, key } = sandboxOf(call, pool.writeDirOf(call));
    return pool.get(key, () =>
      new SandboxWorker({
        key,
        permissions,
        dirs,
        graceMs,
        idleSpinUs,
        clock: options.clock,
        onRetire: (retired) => pool.retired(retired),
        onExit: (stopped) => pool.exited(stopped),
      }));
  }

  return {
    run: (call, signal) => pool.run(call, signal, () => workerFor(call)),
    ...pool.runnerParts(),
  };
}
