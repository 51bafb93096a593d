/**
 * Retry of a finished run (SPEC §11, `POST /runs/:id/retry`): which run, from which node, with
 * which code version.
 *
 * @module
 */

import type { CompiledWorkflow, RunRecord } from "../engine/mod.ts";
import type { RunStore } from "../store/mod.ts";
import { RetryError } from "./errors.ts";

/** Options of `RunManager.retry`. */
export interface RetryOptions {
  /** Re-run this node and everything below it even where they succeeded. @default undefined */
  from?: string;
}

/** What `RunManager.retry` started (the 202 body of `POST /runs/:id/retry`). */
export interface RetryStarted {
  runId: string;
  retryOf: string;
  /** The code version the retry executes. */
  codeHash?: string;
  /** Set when the original code version is gone and the current one runs instead. */
  warning?: string;
}

/** A retry ready to submit. */
export interface RetryPlan {
  /** The run retried. */
  of: RunRecord;
  from?: string;
  /** The code version the retry executes. */
  workflow: CompiledWorkflow;
  /** Set when the original code version is gone and the current one is used instead. */
  warning?: string;
}

/** Looks up a stored code version by its hash (snapshots of `dev`/`serve`). */
export type FindVersion = (codeHash: string) => Promise<CompiledWorkflow | undefined>;

/**
 * Checks that run `runId` can be retried and picks its code version: the current one when the
 * hashes match, else the stored snapshot of the run's version, else the current one with a
 * warning saying so.
 *
 * @throws {RetryError} "not_found" for an unknown run or one of another workflow, "conflict"
 *   for a run that is not finished or succeeded without `from`, "bad_request" for an unknown
 *   `from` node
 */
export async function planRetry(
  store: RunStore,
  current: CompiledWorkflow,
  versions: CompiledWorkflow[],
  findVersion: FindVersion | undefined,
  runId: string,
  options: RetryOptions,
): Promise<RetryPlan> {
  const of = await store.getRun(runId);
  if (!of || of.workflow !== current.name) {
    throw new RetryError("not_found", `Cannot find run "${runId.slice(0, 200)}"`);
  }
  if (of.status !== "failed" && of.status !== "cancelled" && of.status !== "succeeded") {
    throw new RetryError(
      "conflict",
      `Cannot retry run "${of.runId}": it is still ${of.status}; wait for it to end or cancel it`,
    );
  }
  if (of.status === "succeeded" && options.from === undefined) {
    throw new RetryError(
      "conflict",
      `Cannot retry run "${of.runId}": it succeeded; pass { "from": "<node>" } to run a node ` +
        "and its descendants again",
    );
  }
  let workflow = current;
  let warning: string | undefined;
  if (of.codeHash !== undefined && of.codeHash !== current.codeHash) {
    const found = versions.find((v) => v.codeHash === of.codeHash) ??
      await findVersion?.(of.codeHash).catch(() => undefined);
    if (found) {
      workflow = found;
    } else {
      warning = `the code version of run "${of.runId}" (${of.codeHash.slice(0, 12)}) is no ` +
        `longer available; the retry runs the current version ${current.version} ` +
        `(${current.codeHash?.slice(0, 12)})`;
    }
  }
  if (options.from !== undefined && !workflow.order.includes(options.from)) {
    throw new RetryError(
      "bad_request",
      `Cannot retry run "${of.runId}" from node "${options.from.slice(0, 200)}": no such node ` +
        `in workflow "${workflow.name}"; nodes: ${workflow.order.join(", ")}`,
    );
  }
  const plan: RetryPlan = { of, workflow };
  if (options.from !== undefined) plan.from = options.from;
  if (warning !== undefined) plan.warning = warning;
  return plan;
}

/** Parses the optional body `{ "from": "<node>" }` of `POST /runs/:id/retry`. */
export function retryOptionsOf(body: unknown): RetryOptions {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) {
    throw new RetryError(
      "bad_request",
      'Cannot retry: the body must be { "from": "<node>" } or empty',
    );
  }
  const { from, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new RetryError(
      "bad_request",
      `Cannot retry: unknown body field "${extra[0]!.slice(0, 64)}"; the only field is "from"`,
    );
  }
  if (from !== undefined && (typeof from !== "string" || from === "")) {
    throw new RetryError("bad_request", 'Cannot retry: "from" must be a node id');
  }
  return from === undefined ? {} : { from };
}
