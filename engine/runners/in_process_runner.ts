/**
 * Runs module nodes in the engine's own isolate, WITHOUT any sandbox: a node has every
 * permission of the engine, shares its globals, and receives the caller's input, config and
 * secrets objects themselves (no copy). A node that ignores `ctx.signal` is failed after the
 * grace period but keeps running in the background: nothing can stop it.
 *
 * For benchmarks (the "physical limit" of the executor, with no message passing) and for tests
 * only; `createRunner()` is the runner of every command. Command nodes go to the subprocess
 * runner, as with `createRunner()`.
 *
 * @module
 */

import { scopeSecrets } from "./_secret_scope.ts";
import { FailureKind, NodeFailure } from "../errors.ts";
import {
  abortFailure,
  ignoredSignal,
  nodeFailure,
  startTimer,
  toRemoteError,
} from "./_attempt_failure.ts";
import { createContext } from "./_context.ts";
import { askK8sHost } from "./_k8s_api.ts";
import { moduleUrl, NodeLoader } from "./_load_node.ts";
import { createSubprocessRunner } from "./subprocess_runner.ts";
import type { Clock, NodeCall, NodeCallResult, NodeRunner } from "../runner_protocol.ts";

/** Options of {@link createInProcessRunner}. */
export interface InProcessRunnerOptions {
  /**
   * How long a node may ignore `ctx.signal` after a timeout or cancellation before its
   * attempt is failed (the node itself keeps running).
   * @default 500
   */
  graceMs?: number;
  /** Time between SIGTERM and SIGKILL for command nodes. @default 2000 */
  killGraceMs?: number;
  /** Time source of both grace periods. @default the system timers */
  clock?: Clock;
}

/**
 * Creates a runner that imports module nodes into the current isolate (no sandbox).
 *
 * @throws Nothing itself: `run()` rejects with a {@link NodeFailure} when an attempt fails.
 * @example
 * ```ts
 * import { createInProcessRunner } from "./in_process_runner.ts";
 * const runner = createInProcessRunner();
 * await runner.close();
 * ```
 */
export function createInProcessRunner(options: InProcessRunnerOptions = {}): NodeRunner {
  const graceMs = options.graceMs ?? 500;
  const loader = new NodeLoader();
  const commands = createSubprocessRunner({
    killGraceMs: options.killGraceMs,
    clock: options.clock,
  });
  let closed = false;

  async function attempt(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
    const { node } = call;
    const path = node.path ?? "";
    const run = await loader.load(moduleUrl(path, node.codeHash), path, node.id);
    const scoped = scopeSecrets(node, call.secrets, call.workflow.services);
    const { ctx, routes } = createContext({
      runId: call.runId,
      node: node.id,
      attempt: call.attempt,
      config: call.config,
      secrets: scoped.secrets,
      withheld: scoped.withheld,
      tmpDir: call.tmpDir,
      signal,
      services: call.workflow.services,
      children: call.workflow.children[node.id] ?? [],
      onLog: call.onLog,
      onProgress: call.onProgress,
      mock: call.fetchMock && ((request) => call.fetchMock!(request)),
      traceparent: call.traceparent,
      onFetch: call.onFetch,
      k8s: call.k8s && {
        namespace: call.k8s.namespace,
        call: (request) => askK8sHost(call.k8s!, request),
      },
      ...(call.item ? { item: call.item } : {}),
      ...(call.step ? { step: call.step } : {}),
    });
    const output = await run(ctx, call.input);
    return { output, routes: routes() };
  }

  function runModule(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
    const dirs = { workflowDir: call.workflow.dir, writeDir: call.tmpDir };
    if (closed) {
      return Promise.reject(
        new NodeFailure(`Cannot run node "${call.node.id}": the node runner is closed`, {
          kind: FailureKind.Cancelled,
        }),
      );
    }
    if (signal.aborted) return Promise.reject(abortFailure(call, signal.reason));
    return new Promise((resolve, reject) => {
      const controller = new AbortController();
      let settled = false;
      let cancelGrace = () => {};
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        cancelGrace();
        outcome();
      };
      const onAbort = () => {
        controller.abort(signal.reason);
        const stopped = ignoredSignal(graceMs, "it was abandoned");
        cancelGrace = startTimer(
          graceMs,
          () => finish(() => reject(abortFailure(call, signal.reason, { stopped }))),
          { clock: options.clock },
        );
      };
      signal.addEventListener("abort", onAbort, { once: true });
      attempt(call, controller.signal).then(
        (result) =>
          finish(() =>
            signal.aborted ? reject(abortFailure(call, signal.reason)) : resolve(result)
          ),
        (error: unknown) =>
          finish(() =>
            reject(
              signal.aborted
                ? abortFailure(call, signal.reason)
                : nodeFailure(call, toRemoteError(error), { dirs, cause: error }),
            )
          ),
      );
    });
  }

  return {
    run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
      if (call.node.kind === "command") return commands.run(call, signal);
      return runModule(call, signal);
    },
    async close(): Promise<void> {
      closed = true;
      await commands.close();
    },
  };
}
