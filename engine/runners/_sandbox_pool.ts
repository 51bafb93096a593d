/**
 * The pool behind both module-node runners (engine/runners/process_runner.ts over sandbox
 * processes, engine/runners/worker_runner.ts over workers): warm sandboxes by realm key, the
 * least recently used idle one stopped at the limit, a sandbox replaced once it has
 * re-imported too many changed node files, the per-run temp dirs its sandboxes may write
 * (engine/runners/_tmp_dirs.ts), the checks every call passes before it reaches a sandbox, and
 * closing. What a sandbox is and how it is keyed is the runner's (its factory).
 *
 * @module
 */

import { FailureKind, NodeFailure } from "../errors.ts";
import { abortFailure } from "./_attempt_failure.ts";
import { TmpDirs } from "./_tmp_dirs.ts";
import type { NodeCall, NodeCallResult, NodeRunner } from "../runner_protocol.ts";

/** What the pool needs of a sandbox (a worker or a process). */
export interface PooledSandbox {
  readonly key: string;
  /** Pool bookkeeping: last use, for least-recently-used eviction. */
  lastUsed: number;
  /** Node files re-imported with a new code hash. */
  staleVersions: number;
  readonly busy: boolean;
  run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult>;
  /** Takes no new calls; stops once the running ones have settled. */
  retire(): void;
  /** Stops now; calls still running fail with `failure(call)` (or the sandbox's default). */
  stop(failure?: (call: NodeCall) => NodeFailure): void;
}

/** A runner of module nodes that also makes per-run temp dirs its sandboxes can write. */
export interface ModuleRunner extends NodeRunner {
  makeTmpDir(runId: string): Promise<string>;
  releaseTmpDir(dir: string): Promise<void>;
}

/** Options of {@link SandboxPool}. */
export interface SandboxPoolOptions {
  /** Warm sandboxes kept; beyond it the least recently used idle one is stopped. */
  max: number;
  /** Changed node files a sandbox re-imports before it is replaced. */
  maxModuleVersions: number;
  /** Base directory of the per-run temp dirs (see {@link TmpDirs}). */
  tmpBase?: string;
  /** The runner's name in the error for a node that is not a module node ("the worker runner"). */
  name: string;
}

function isInside(path: string, dir: string): boolean {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
}

/** Warm sandboxes by key, and the runner's temp dirs. */
export class SandboxPool<S extends PooledSandbox> {
  readonly tmpDirs: TmpDirs;
  #options: SandboxPoolOptions;
  #pool = new Map<string, S>();
  #live = new Set<S>();
  #uses = 0;
  #closed = false;

  constructor(options: SandboxPoolOptions) {
    this.#options = options;
    this.tmpDirs = new TmpDirs(options.tmpBase);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The directory a sandbox for `call` may write: the base of the per-run temp dirs when the
   * call's temp dir lies in it, else the call's own temp dir.
   */
  writeDirOf(call: NodeCall): string {
    const base = this.tmpDirs.base;
    return base !== undefined && isInside(call.tmpDir, base) ? base : call.tmpDir;
  }

  /** Tracks a sandbox made by `create`; call {@link retired} and {@link exited} from it. */
  track(sandbox: S): S {
    this.#live.add(sandbox);
    return sandbox;
  }

  /** A sandbox that must take no new calls leaves the pool. */
  retired(sandbox: S): void {
    if (this.#pool.get(sandbox.key) === sandbox) this.#pool.delete(sandbox.key);
  }

  /** A sandbox that has stopped. */
  exited(sandbox: S): void {
    this.#live.delete(sandbox);
  }

  /**
   * The pooled sandbox under `key`: a new one from `create()` when there is none or it
   * re-imported too many node versions (it is retired), stopping the least recently used idle
   * one at the limit.
   */
  get(key: string, create: () => S): S {
    let sandbox = this.#pool.get(key);
    if (sandbox && sandbox.staleVersions >= this.#options.maxModuleVersions) {
      sandbox.retire();
      sandbox = undefined;
    }
    if (!sandbox) {
      this.#evictIdle();
      sandbox = this.track(create());
      this.#pool.set(key, sandbox);
    }
    sandbox.lastUsed = ++this.#uses;
    return sandbox;
  }

  #evictIdle(): void {
    if (this.#pool.size < this.#options.max) return;
    let oldest: S | undefined;
    for (const sandbox of this.#pool.values()) {
      if (!sandbox.busy && (!oldest || sandbox.lastUsed < oldest.lastUsed)) oldest = sandbox;
    }
    oldest?.stop();
  }

  /**
   * Runs `call` in the sandbox `pick()` gives, after the checks: a module node, the runner
   * open, the signal not aborted; a sandbox that cannot be made fails the node for good.
   */
  run(call: NodeCall, signal: AbortSignal, pick: () => S): Promise<NodeCallResult> {
    const { node } = call;
    if (node.kind !== "module" || node.path === undefined) {
      return Promise.reject(
        new TypeError(
          `Cannot run node "${node.id}": ${this.#options.name} runs module nodes only`,
        ),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        new NodeFailure(`Cannot run node "${node.id}": the node runner is closed`, {
          kind: FailureKind.Cancelled,
        }),
      );
    }
    if (signal.aborted) return Promise.reject(abortFailure(call, signal.reason));
    let sandbox: S;
    try {
      sandbox = pick();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return Promise.reject(
        new NodeFailure(
          `Cannot start the sandbox of node "${node.id}": ${detail}; fix its capabilities ` +
            "in workflow.yaml",
          { nonRetryable: true, cause: error },
        ),
      );
    }
    return sandbox.run(call, signal);
  }

  /** The runner's `makeTmpDir`, `releaseTmpDir` and `close`. */
  runnerParts(): Pick<ModuleRunner, "makeTmpDir" | "releaseTmpDir" | "close"> {
    return {
      makeTmpDir: (runId) => this.tmpDirs.make(runId),
      releaseTmpDir: (dir) => this.tmpDirs.release(dir, this.#closed),
      close: () => this.close(),
    };
  }

  /** Stops every sandbox (calls still running fail as cancelled) and removes the temp dirs. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const sandbox of [...this.#live]) {
      sandbox.stop((call) =>
        new NodeFailure(`Cannot run node "${call.node.id}": the node runner was closed`, {
          kind: FailureKind.Cancelled,
        })
      );
    }
    this.#live.clear();
    this.#pool.clear();
    await this.tmpDirs.close();
  }
}
