/**
 * The default node runner: module nodes in sandbox processes (or workers), command nodes as
 * subprocesses.
 *
 * @module
 */

import { createSubprocessRunner } from "./subprocess_runner.ts";
import { createWorkerRunner } from "./worker_runner.ts";
import { createProcessRunner, sandboxProcessProblem } from "./process_runner.ts";
import type { Clock, NodeCall, NodeCallResult, NodeRunner } from "../runner_protocol.ts";

/** The warning of a module-node attempt that runs in a worker because no process can start. */
function warnUncontained(call: NodeCall, problem: string): void {
  call.onLog({
    ts: new Date().toISOString(),
    level: "warn",
    msg: `Not contained: this node runs in a worker of the engine process, not in a sandbox ` +
      `process, because ${problem}; its permissions hold, but exhausting memory or crashing ` +
      "its runtime takes the engine down (README: Security)",
    runId: call.runId,
    node: call.node.id,
    attempt: call.attempt,
  });
}

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /**
   * How long a module node may ignore `ctx.signal` after a timeout or cancellation before it
   * is failed and its worker stopped.
   * @default 500
   */
  workerGraceMs?: number;
  /** Time between SIGTERM and SIGKILL for command nodes. @default 2000 */
  killGraceMs?: number;
  /** Time source of both grace periods. @default the system timers */
  clock?: Clock;
  /**
   * Base directory of the per-run temp dirs of `makeTmpDir()`.
   * @default a new temp dir, made on first use and removed by `close()`
   */
  tmpBase?: string;
  /** Warm sandbox workers (or processes) kept at most. @default 16 workers, 32 processes */
  maxWorkers?: number;
  /**
   * `process` (default): module nodes in sandbox processes, contained (SPEC §4);
   * `worker`: in Deno workers of the engine's process (faster to start, not contained: a node
   * can exhaust the engine's memory). An engine that cannot start sandbox processes (a
   * `deno compile`d binary, or one not allowed to run deno: see `sandboxProcessProblem()`)
   * uses workers, and every module-node attempt then logs a warning saying it is not contained
   * and why.
   */
  sandbox?: "process" | "worker";
}

/**
 * Creates the default runner: module nodes run in sandbox processes whose permissions derive
 * from their capabilities (SPEC §4), warm and shared across runs (in Deno workers, with a
 * warning on every attempt, where no sandbox process can start); command nodes run as
 * subprocesses in bubblewrap. Call `close()` when done: sandboxes keep the process alive.
 *
 * @throws {TypeError} From `run()`, for a node of unknown kind.
 * @example
 * ```ts
 * import { createRunner } from "./create_runner.ts";
 * const runner = createRunner({ workerGraceMs: 250 });
 * try {
 *   // await executeRun(workflow, { runner });
 * } finally {
 *   await runner.close();
 * }
 * ```
 */
export function createRunner(options: RunnerOptions = {}): NodeRunner {
  const wanted = (options.sandbox ?? "process") === "process";
  const problem = wanted ? sandboxProcessProblem() : undefined;
  const processes = wanted && problem === undefined;
  const modules = processes
    ? createProcessRunner({
      graceMs: options.workerGraceMs,
      clock: options.clock,
      tmpBase: options.tmpBase,
      maxProcesses: options.maxWorkers,
    })
    : createWorkerRunner({
      graceMs: options.workerGraceMs,
      clock: options.clock,
      tmpBase: options.tmpBase,
      maxWorkers: options.maxWorkers,
    });
  const commands = createSubprocessRunner({
    killGraceMs: options.killGraceMs,
    clock: options.clock,
  });
  return {
    run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
      switch (call.node.kind) {
        case "module":
          if (problem !== undefined) warnUncontained(call, problem);
          return modules.run(call, signal);
        case "command":
          return commands.run(call, signal);
        default:
          return Promise.reject(
            new TypeError(`Cannot run node "${call.node.id}": unknown kind "${call.node.kind}"`),
          );
      }
    },
    prepare: (call) => call.node.kind === "module" ? modules.prepare?.(call) : undefined,
    makeTmpDir: (runId) => modules.makeTmpDir(runId),
    releaseTmpDir: (dir) => modules.releaseTmpDir(dir),
    async close(): Promise<void> {
      await Promise.all([modules.close(), commands.close()]);
    },
  };
}
