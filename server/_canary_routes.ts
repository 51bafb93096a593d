/**
 * The live engine's HTTP side of a canary release, after authentication: new runs
 * (`POST /run`, `GET /run`, `POST /runs`) in the canary's share are forwarded to the canary
 * engine and its answer returned as is (same status, headers and body, so the caller sees the
 * shape it always sees); a request about a run this engine does not have (`/runs/:id/…`:
 * record, logs and SSE, cancel, events, items, retry) is forwarded too, so forwarded runs stay
 * reachable through the live Service. Cron runs (`X-Pipedreamer-Trigger: cron`, sent by the
 * CronJobs) always stay live. `GET /canary` reports the split and both engines' run counts.
 *
 * @module
 */

import type { CanarySplit, CanaryTarget } from "./_canary.ts";
import { readBodyBytes } from "./_body.ts";
import { ErrorCode, HttpError, jsonResponse } from "./_http_error.ts";
import type { RunApi } from "./_run_api.ts";

/** The header that tells the engine which trigger started a run (cron Jobs, forwarded runs). */
export const TRIGGER_HEADER = "x-pipedreamer-trigger";
/** Triggers a caller may name in {@link TRIGGER_HEADER}. */
export const HEADER_TRIGGERS = ["manual", "cron", "queue"] as const;

/** Run counts of one engine, from its `pipedreamer_runs_total` metric. */
export interface RunCounts {
  /** Finished runs by final status. */
  finished: Record<string, number>;
  total: number;
  failed: number;
  /** failed / total, or null before any run finished. */
  failureRate: number | null;
}

/** Parses `pipedreamer_runs_total{…,status="…"} n` lines of Prometheus text. */
export function runCountsOf(metricsText: string): RunCounts {
  const finished: Record<string, number> = {};
  for (const line of metricsText.split("\n")) {
    const m = /^pipedreamer_runs_total\{([^}]*)\}\s+(\S+)/.exec(line);
    const status = m && /status="([^"]*)"/.exec(m[1]!)?.[1];
    if (m && status) finished[status] = (finished[status] ?? 0) + Number(m[2]);
  }
  const total = Object.values(finished).reduce((a, b) => a + b, 0);
  const failed = (finished.failed ?? 0) + (finished.timed_out ?? 0);
  return { finished, total, failed, failureRate: total === 0 ? null : failed / total };
}

/** A fetch error raised before anything was sent: no connection, no address (any cause). */
function neverSent(error: unknown): boolean {
  for (let e = error as { message?: string; code?: string; cause?: unknown } | undefined; e;) {
    if (
      /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(String(e.code)) ||
      /\(Connect\)|connection refused|dns error/i.test(String(e.message))
    ) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Thrown by {@link forwardToCanary} when the canary could not be connected to. */
class CanaryUnreachable extends Error {}

/**
 * Sends `request` (or `body` in its place) to the canary and returns its answer unchanged.
 *
 * @throws {CanaryUnreachable} when no connection could be made (nothing was sent).
 * @throws {HttpError} 502 when the exchange failed after that.
 */
export async function forwardToCanary(
  target: CanaryTarget,
  request: Request,
  url: URL,
  body: BodyInit | null = request.body,
): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.delete("host");
  headers.set("x-forwarded-by", "pipedreamer-live");
  let res: Response;
  try {
    res = await fetch(`${target.url}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body,
      redirect: "manual",
      signal: request.signal,
    });
  } catch (error) {
    const message = `Cannot reach the canary (version ${target.version} at ${target.url}): ${
      (error as Error).message
    }`;
    if (neverSent(error)) throw new CanaryUnreachable(message, { cause: error });
    throw new HttpError(
      ErrorCode.BadGateway,
      `Cannot reach the canary (version ${target.version} at ${target.url}): ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  const out = new Headers(res.headers);
  out.delete("content-encoding");
  out.delete("content-length");
  return new Response(res.body, { status: res.status, headers: out });
}

function isNewRun(method: string, path: string): boolean {
  return (path === "/run" && (method === "POST" || method === "GET")) ||
    (path === "/runs" && method === "POST");
}

/** The run id of a `/runs/:id[/…]` path, or undefined. */
function runIdOf(path: string): string | undefined {
  const m = /^\/runs\/([^/]+)(\/|$)/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/**
 * The forwarding step of the live engine's handler: a Response for requests that belong to the
 * canary (or `GET /canary`), undefined for everything this engine answers itself.
 */
export function canaryForwarder(
  split: CanarySplit,
  manager: RunApi,
  options: { maxBodyBytes: number; onError?: (error: unknown) => void },
): (request: Request, url: URL) => Promise<Response | Request | undefined> {
  return async (request, url) => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    const path = url.pathname;
    if (path === "/canary" && method === "GET") return await canaryStatus(split, manager);
    if (isNewRun(method, path)) {
      const trigger = request.headers.get(TRIGGER_HEADER);
      // Cron stays live; a bad trigger header is the route's 400, not a run of the split.
      if (trigger !== null && (trigger === "cron" || !HEADER_TRIGGERS.includes(trigger as never))) {
        return undefined;
      }
      const key = request.headers.get("idempotency-key") ?? undefined;
      const target = await split.decide(key);
      if (!target) return undefined;
      // Read first: a canary that cannot be connected to (not ready yet, gone) leaves the run
      // to this engine, with the body it would have read.
      const body = method === "POST"
        ? (await readBodyBytes(request, options.maxBodyBytes)) as Uint8Array<ArrayBuffer>
        : null;
      try {
        return await forwardToCanary(target, request, url, body);
      } catch (error) {
        if (!(error instanceof CanaryUnreachable)) throw error;
        options.onError?.(error);
        split.tookBack(key);
        return new Request(request.url, { method: request.method, headers: request.headers, body });
      }
    }
    const runId = runIdOf(path);
    if (runId === undefined) return undefined;
    const target = await split.target();
    if (!target || (await manager.getRun(runId)) !== undefined) return undefined;
    try {
      return await forwardToCanary(target, request, url);
    } catch (error) {
      if (!(error instanceof CanaryUnreachable)) throw error;
      throw new HttpError(ErrorCode.BadGateway, error.message, { cause: error });
    }
  };
}

/** GET /canary: the canary, the split so far, and both engines' run counts. */
async function canaryStatus(split: CanarySplit, manager: RunApi): Promise<Response> {
  const target = await split.target();
  const live = runCountsOf(await manager.metrics());
  if (!target) return jsonResponse({ canary: null, runs: { live } });
  let canary: RunCounts | { error: string };
  try {
    const res = await fetch(`${target.url}/metrics`, { headers: split.authHeaders() });
    const text = await res.text();
    canary = res.ok
      ? runCountsOf(text)
      : { error: `the canary answered ${res.status}: ${text.slice(0, 200)}` };
  } catch (error) {
    canary = { error: `the canary is unreachable: ${(error as Error).message}` };
  }
  return jsonResponse({ canary: { ...target, routed: split.routed() }, runs: { live, canary } });
}
