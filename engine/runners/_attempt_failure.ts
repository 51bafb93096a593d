/**
 * How the node runners turn what happened to an attempt into a {@link NodeFailure}: thrown
 * errors (sandbox denials become capability failures), timeouts and cancellations. Shared by
 * the worker, in-process and subprocess runners so their failures read the same.
 *
 * @module
 */

import { FailureKind, NodeFailure } from "../errors.ts";
import { describeDenial, findDenial, type SandboxDirs } from "./_permissions.ts";
import type { RemoteError } from "./_worker_protocol.ts";
import type { Clock, NodeCall } from "../runner_protocol.ts";

/** "250ms", "1.5s", "30s". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}

/** Whether an abort reason is a timeout (a `TimeoutError`, as `AbortSignal.timeout()` uses). */
export function isTimeoutReason(reason: unknown): boolean {
  return typeof reason === "object" && reason !== null &&
    (reason as { name?: unknown }).name === "TimeoutError";
}

/**
 * The failure of an attempt whose signal was aborted: kind "timeout" for a TimeoutError
 * reason, else "cancelled". `stopped` says how the runner had to stop a node that ignored it.
 */
export function abortFailure(
  call: NodeCall,
  reason: unknown,
  options: { stopped?: string } = {},
): NodeFailure {
  const { stopped } = options;
  const timeout = isTimeoutReason(reason);
  const head = `Cannot run node "${call.node.id}": attempt ${call.attempt}`;
  let message = timeout
    ? `${head} timed out after ${formatMs(call.node.timeoutMs)}`
    : `${head} was cancelled`;
  if (stopped !== undefined) message += `; ${stopped}`;
  else if (timeout) message += "; raise timeout: on the node in workflow.yaml if it needs longer";
  return new NodeFailure(message, {
    kind: timeout ? FailureKind.Timeout : FailureKind.Cancelled,
    cause: reason,
  });
}

/** What the runner tells about a node that kept running after its signal was aborted. */
export function ignoredSignal(graceMs: number, what: string): string {
  return `it ignored ctx.signal for ${formatMs(graceMs)}, so ${what} (pass ctx.signal to ` +
    "fetch and check it in long loops)";
}

/** An error thrown by a node, as plain data that can cross a worker boundary. */
export function toRemoteError(error: unknown): RemoteError {
  if (!(error instanceof Error)) {
    return { message: typeof error === "string" ? error : Deno.inspect(error) };
  }
  const remote: RemoteError = { message: error.message, name: error.name, stack: error.stack };
  const denial = findDenial(error);
  if (denial) remote.denial = denial;
  if ((error as { nonRetryable?: unknown }).nonRetryable === true) remote.nonRetryable = true;
  const capability = (error as { capability?: unknown }).capability;
  if (typeof capability === "string") remote.capability = capability;
  return remote;
}

/**
 * An error crossing back into a sandbox (the answer to a call the host made for the node):
 * same class name, message, retryability and capability; the host's stack stays outside.
 */
export function fromRemoteError(remote: RemoteError): Error {
  const error = new Error(remote.message) as Error & {
    nonRetryable?: boolean;
    capability?: string;
  };
  if (remote.name !== undefined) error.name = remote.name;
  if (remote.nonRetryable) error.nonRetryable = true;
  if (remote.capability !== undefined) error.capability = remote.capability;
  return error;
}

/**
 * The failure of an attempt whose node threw `error`: a capability failure naming what to
 * declare when the sandbox denied something, else the node's own message.
 */
export function nodeFailure(
  call: NodeCall,
  error: RemoteError,
  options: { dirs: SandboxDirs; cause?: unknown },
): NodeFailure {
  const { dirs, cause } = options;
  const remote = { remoteName: error.name, remoteStack: error.stack, cause };
  if (error.denial) {
    const described = describeDenial(call.node.id, error.denial, dirs);
    return new NodeFailure(described.message, {
      ...remote,
      kind: FailureKind.Capability,
      capability: described.capability,
    });
  }
  if (error.capability !== undefined) {
    // Denied by a rule enforced on the host (ctx.k8s): the message names the rule to add.
    return new NodeFailure(error.message, {
      ...remote,
      kind: FailureKind.Capability,
      capability: error.capability,
    });
  }
  return new NodeFailure(error.message, { ...remote, nonRetryable: error.nonRetryable });
}

/**
 * Calls `fire` after `ms` (on `options.clock` when given, else with `setTimeout`); the
 * returned function cancels it.
 */
export function startTimer(
  ms: number,
  fire: () => void,
  options: { clock?: Clock } = {},
): () => void {
  const { clock } = options;
  if (clock === undefined) {
    const id = setTimeout(fire, ms);
    return () => clearTimeout(id);
  }
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(fire, () => {});
  return () => controller.abort();
}
