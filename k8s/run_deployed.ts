/**
 * `run <name>`: starts a run of a deployed workflow through the API server's service proxy
 * (`/api/v1/namespaces/<ns>/services/<name>:http/proxy/run`), so it needs neither kubectl nor a
 * port-forward, only RBAC for `services/proxy`. The API server drops the caller's
 * `Authorization` header before proxying, so the engine's token travels in
 * `X-Pipedreamer-Token`. With `url`, the same request goes straight to the engine (the cron
 * Jobs do this inside the cluster).
 *
 * @module
 */

import type { RunRecord } from "../engine/mod.ts";
import { HTTP_PORT_NAME } from "./_labels.ts";
import { existingToken } from "./deploy.ts";
import { apiError, type KubeClient } from "./kube_client.ts";

/** Header carrying the engine's API token through the API server's proxy. */
export const TOKEN_HEADER = "X-Pipedreamer-Token";

/** Options of {@link runDeployed} and {@link runAtUrl}. */
export interface RunDeployedOptions {
  /** Run input (sent as the JSON body). @default null */
  input?: unknown;
  /** Give up waiting after this long; 0 waits forever. @default 300_000 */
  timeoutMs?: number;
  /** Start the run and return `{ runId }` without waiting (`POST /runs`). @default false */
  async?: boolean;
  /** Cancels the request. @default undefined */
  signal?: AbortSignal;
  /**
   * `Idempotency-Key`: a repeated request with the same key attaches to the same run instead
   * of starting another (a cron Job retried after a lost connection). @default undefined
   */
  idempotencyKey?: string;
  /**
   * `X-Pipedreamer-Trigger`: the trigger the run records; `cron` (the CronJobs) is never sent
   * to a canary. @default undefined (manual)
   */
  trigger?: string;
}

function keyHeader(options: RunDeployedOptions): Record<string, string> {
  return {
    ...(options.idempotencyKey ? { "idempotency-key": options.idempotencyKey } : {}),
    ...(options.trigger ? { "x-pipedreamer-trigger": options.trigger } : {}),
  };
}

/** What a run request returns: the run record, or `{ runId }` when async. */
export type RunResult = { record: RunRecord } | { runId: string };

/**
 * Runs a deployed workflow through the service proxy and returns its run record (a failed run
 * is a record with status "failed", not an error).
 *
 * @throws {Error} "Cannot run …" when the workflow is not deployed, has no ready pod, or the
 *   engine rejects the request (bad input, queue full).
 * @example
 * ```ts
 * const result = await runDeployed(client, "hello", "default", { input: { name: "Ada" } });
 * ```
 */
export async function runDeployed(
  client: KubeClient,
  name: string,
  namespace: string,
  options: RunDeployedOptions = {},
): Promise<RunResult> {
  const token = await existingToken(client, name, namespace);
  if (token === undefined) {
    throw new Error(
      `Cannot run "${name}": it is not deployed in namespace "${namespace}" (no "${name}-token" Secret); deploy it first`,
    );
  }
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${
    encodeURIComponent(name)
  }:${HTTP_PORT_NAME}/proxy/${options.async ? "runs" : "run"}`;
  const res = await client.request("POST", path, {
    body: JSON.stringify(options.input ?? null),
    headers: { [TOKEN_HEADER]: token, ...keyHeader(options) },
    timeoutMs: options.timeoutMs ?? 300_000,
    signal: options.signal,
  });
  const text = await res.text();
  return interpret(name, res.status, text, () => {
    throw apiError("POST", path, res.status, text);
  });
}

/**
 * Runs a workflow by calling its engine directly at `url` (inside the cluster).
 *
 * @throws {Error} "Cannot run …" when the engine is unreachable or rejects the request.
 */
export async function runAtUrl(
  name: string,
  url: string,
  token: string,
  options: RunDeployedOptions = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const signals = [options.signal, timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined]
    .filter((s): s is AbortSignal => s !== undefined);
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, "")}/${options.async ? "runs" : "run"}`, {
      method: "POST",
      body: JSON.stringify(options.input ?? null),
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        [TOKEN_HEADER]: token,
        ...keyHeader(options),
      },
      signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
    });
  } catch (error) {
    throw new Error(
      `Cannot run "${name}": ${url} is unreachable: ${
        error instanceof Error ? error.message : error
      }`,
      { cause: error },
    );
  }
  const text = await res.text();
  return interpret(name, res.status, text, () => {
    throw new Error(`Cannot run "${name}": ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  });
}

function interpret(name: string, status: number, text: string, otherwise: () => never): RunResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return otherwise();
  }
  const b = body as { kind?: string; runId?: unknown; status?: unknown; error?: unknown };
  if (b?.kind === "Status") return otherwise();
  if (
    (status === 200 || status === 422) && typeof b.runId === "string" &&
    typeof b.status === "string"
  ) {
    return { record: body as RunRecord };
  }
  if (status === 202 && typeof b.runId === "string") return { runId: b.runId };
  const detail = typeof b.error === "string"
    ? b.error
    : typeof (b.error as { message?: unknown })?.message === "string"
    ? (b.error as { message: string }).message
    : text.slice(0, 200);
  throw new Error(`Cannot run "${name}": the engine answered ${status}: ${detail}`);
}
