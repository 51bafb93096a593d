/**
 * A {@link NodeRunner} for executor tests: each node is a plain JS function.
 *
 * @module
 */

import {
  FailureKind,
  type LogLevel,
  type NodeCall,
  type NodeCallResult,
  NodeFailure,
  type NodeRunner,
} from "../engine/mod.ts";

/** What a test node function receives. */
export interface TestContext {
  node: string;
  attempt: number;
  runId: string;
  signal: AbortSignal;
  config: Record<string, unknown>;
  secrets: Record<string, unknown>;
  tmpDir: string;
  route(...ids: string[]): void;
  log(msg: string, fields?: Record<string, unknown>, level?: LogLevel): void;
  progress(value: number, message?: string): void;
}

/** A test node. */
export type TestFn = (ctx: TestContext, input: unknown) => unknown;

/** Options of {@link testRunner}. */
export interface TestRunnerOptions {
  /** Used for nodes without a function. @default returns the node id */
  fallback?: TestFn;
  /** Never settle on abort (a runner that does not react to its signal). @default false */
  ignoreAbort?: boolean;
}

/** A runner plus what it saw. */
export interface TestRunner extends NodeRunner {
  /** Every attempt, in start order. */
  calls: { node: string; attempt: number; input: unknown; signal: AbortSignal }[];
  /** Attempts started and not settled. */
  running: Set<string>;
  /** Largest number of attempts running at once. */
  maxRunning: number;
}

/** Runs `fns[node.id](ctx, input)`; `ctx.route()` becomes the result's `routes`. */
export function testRunner(
  fns: Record<string, TestFn>,
  options: TestRunnerOptions = {},
): TestRunner {
  const fallback: TestFn = options.fallback ?? ((ctx) => ctx.node);
  const runner: TestRunner = {
    calls: [],
    running: new Set(),
    maxRunning: 0,
    async run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
      const id = call.node.id;
      runner.calls.push({ node: id, attempt: call.attempt, input: call.input, signal });
      runner.running.add(id);
      runner.maxRunning = Math.max(runner.maxRunning, runner.running.size);
      let routes: string[] | undefined;
      const ctx: TestContext = {
        node: id,
        attempt: call.attempt,
        runId: call.runId,
        signal,
        config: call.config,
        secrets: call.secrets,
        tmpDir: call.tmpDir,
        route: (...ids) => routes = [...(routes ?? []), ...ids],
        log: (msg, fields, level = "info") =>
          call.onLog({
            ts: new Date().toISOString(),
            level,
            msg,
            runId: call.runId,
            node: id,
            attempt: call.attempt,
            fields,
          }),
        progress: (value, message) => call.onProgress?.(value, message),
      };
      try {
        const work = Promise.resolve((fns[id] ?? fallback)(ctx, call.input));
        const output = options.ignoreAbort ? await work : await Promise.race([
          work,
          new Promise<never>((_, reject) => {
            const onAbort = () => {
              const timeout = (signal.reason as Error | undefined)?.name === "TimeoutError";
              reject(
                new NodeFailure(timeout ? "timed out" : "aborted", {
                  kind: timeout ? FailureKind.Timeout : FailureKind.Cancelled,
                }),
              );
            };
            if (signal.aborted) onAbort();
            else signal.addEventListener("abort", onAbort, { once: true });
            work.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => {});
          }),
        ]);
        return routes ? { output, routes } : { output };
      } finally {
        runner.running.delete(id);
      }
    },
    close: () => Promise.resolve(),
  };
  return runner;
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
