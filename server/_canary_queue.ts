/**
 * Queue triggers during a canary release: only the live engine consumes the queue (the canary
 * runs `serve --queue external`), and the runs it starts go through the same split as HTTP
 * runs. A run in the canary's share is submitted to the canary (`POST /runs` with the message's
 * idempotency key and `X-Pipedreamer-Trigger: queue`) and waited for there, so the message is
 * acked, retried or dead-lettered on the canary run's outcome exactly as on a live one.
 *
 * @module
 */

import { InputValidationError, isFinishedStatus, type RunRecord } from "../engine/mod.ts";
import type { QueueRuns } from "../triggers/mod.ts";
import type { CanarySplit, CanaryTarget } from "./_canary.ts";
import { TRIGGER_HEADER } from "./_canary_routes.ts";

/** The run manager as queue triggers use it (triggers/'s `QueueRuns`). */
export type CanaryQueueRuns = QueueRuns;

/** Polling interval bounds while waiting for a canary run. */
const POLL_MS = [50, 100, 200, 500, 1_000] as const;

/** An error whose name the queue trigger understands (`QueueFullError`, `DrainingError`). */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** `runs` with the canary's share of new runs submitted to the canary. */
export function canaryQueueRuns(
  runs: CanaryQueueRuns,
  split: CanarySplit,
  signal: AbortSignal,
): CanaryQueueRuns {
  /** Runs this engine started on the canary, and where. */
  const remote = new Map<string, CanaryTarget>();
  const call = async (target: CanaryTarget, path: string, init: RequestInit = {}) => {
    try {
      return await fetch(`${target.url}${path}`, {
        ...init,
        headers: { ...split.authHeaders(), ...(init.headers as Record<string, string>) },
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw namedError("DrainingError", "the live engine is shutting down");
      throw new Error(
        `Cannot reach the canary (version ${target.version} at ${target.url}): ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
  };
  const getRemote = async (target: CanaryTarget, runId: string) => {
    const res = await call(target, `/runs/${encodeURIComponent(runId)}`);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw new Error(`The canary answered ${res.status}: ${await res.text()}`);
    return await res.json() as RunRecord;
  };
  return {
    adoptedRuns: runs.adoptedRuns?.bind(runs),
    async submit(input, options = {}) {
      const target = await split.decide(options.idempotencyKey);
      if (!target) return await runs.submit(input, options);
      const res = await call(target, "/runs", {
        method: "POST",
        body: JSON.stringify(input),
        headers: {
          "content-type": "application/json",
          ...(options.idempotencyKey ? { "idempotency-key": options.idempotencyKey } : {}),
          ...(options.trigger ? { [TRIGGER_HEADER]: options.trigger } : {}),
        },
      });
      const body = await res.json().catch(() => ({})) as {
        runId?: string;
        error?: { code?: string; message?: string; details?: { errors?: string[] } };
      };
      if ((res.status === 200 || res.status === 202) && typeof body.runId === "string") {
        remote.set(body.runId, target);
        return { runId: body.runId, created: res.status === 202 };
      }
      const message = `The canary rejected the run: ${body.error?.message ?? res.status}`;
      if (body.error?.code === "invalid_input") {
        throw new InputValidationError(body.error.details?.errors ?? [message]);
      }
      if (res.status === 429) throw namedError("QueueFullError", message);
      throw new Error(message);
    },
    async wait(runId) {
      const target = remote.get(runId);
      if (!target) return await runs.wait(runId);
      for (let i = 0;; i++) {
        const record = await getRemote(target, runId);
        if (!record) throw new Error(`The canary has no run "${runId}" any more`);
        if (isFinishedStatus(record.status)) {
          remote.delete(runId);
          remote.set(runId, target);
          if (remote.size > 10_000) remote.delete(remote.keys().next().value!);
          return record;
        }
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            clearTimeout(timer);
            reject(namedError("DrainingError", "the live engine is shutting down"));
          };
          const timer = setTimeout(() => {
            signal.removeEventListener("abort", onAbort);
            resolve();
          }, POLL_MS[Math.min(i, POLL_MS.length - 1)]);
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        });
      }
    },
    async getRun(runId) {
      const local = await runs.getRun(runId);
      if (local) return local;
      const target = remote.get(runId) ?? await split.target();
      return target ? await getRemote(target, runId) : undefined;
    },
  };
}
