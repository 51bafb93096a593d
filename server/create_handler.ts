/**
 * The HTTP API of `dev` and `serve` (SPEC §7) as one `(Request) => Promise<Response>` function:
 * routing, auth, draining and the mapping of every error to a JSON response.
 *
 * @module
 */

import { DEFAULT_MAX_BODY_BYTES } from "./_body.ts";
import { type Authenticator, createAuthenticator } from "./_auth.ts";
import { ErrorCode, errorResponse, HttpError } from "./_http_error.ts";
import type { Route, RouteContext } from "./_route.ts";
import type { RunApi } from "./_run_api.ts";
import { health, healthBody, metrics, openApi } from "./_routes_meta.ts";
import { live, ProbePath, probeWhileDraining, ready } from "./_routes_probes.ts";
import { cancelRun, getLogs, getRun, listRuns, runSync, submitRun } from "./_routes_runs.ts";
import { jsonResponse } from "./_http_error.ts";
import { listItems, postEvent } from "./_routes_durable.ts";
import { retryRun } from "./_routes_retry.ts";
import { DrainingError, QueueFullError } from "./errors.ts";

export type { RunApi } from "./_run_api.ts";

/** Every route of the API. */
export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/health", auth: false, handle: health },
  { method: "GET", path: ProbePath.Ready, auth: false, handle: ready },
  { method: "GET", path: ProbePath.Live, auth: false, handle: live },
  { method: "GET", path: "/run", auth: true, handle: runSync },
  { method: "POST", path: "/run", auth: true, handle: runSync },
  { method: "GET", path: "/runs", auth: true, handle: listRuns },
  { method: "POST", path: "/runs", auth: true, handle: submitRun },
  { method: "GET", path: "/runs/:id", auth: true, handle: getRun },
  { method: "GET", path: "/runs/:id/logs", auth: true, handle: getLogs },
  { method: "POST", path: "/runs/:id/cancel", auth: true, handle: cancelRun },
  { method: "POST", path: "/runs/:id/events/:event", auth: true, handle: postEvent },
  { method: "GET", path: "/runs/:id/nodes/:node/items", auth: true, handle: listItems },
  { method: "POST", path: "/runs/:id/retry", auth: true, handle: retryRun },
  { method: "GET", path: "/metrics", auth: true, handle: metrics },
  { method: "GET", path: "/openapi.json", auth: true, handle: openApi },
];

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  /** Bearer token required on every route but /health; false: no auth (dev). @default false */
  auth?: { token: string } | false;
  /** Largest accepted request body, enforced while it streams in. @default 1_048_576 (1 MiB) */
  maxBodyBytes?: number;
  /**
   * Serves paths that are no API route (GET / and its assets) without auth; returning
   * undefined falls through to 404. @default undefined (404 JSON)
   */
  dashboard?: (request: Request) => Response | undefined | Promise<Response | undefined>;
  /** While true every request gets 503 (graceful shutdown). @default () => false */
  draining?: () => boolean;
  /** Aborting it ends open event streams (shutdown). @default undefined */
  signal?: AbortSignal;
  /** Sees unexpected errors (answered 500 without details). @default ignore */
  onError?: (error: unknown, request: Request) => void;
  /** Retry-After of 429 answers, in seconds. @default 5 */
  retryAfterSeconds?: number;
  /** Interval of SSE keep-alive comments; 0 disables them. @default 15_000 */
  sseHeartbeatMs?: number;
  /**
   * Sees every authenticated request before the routes do and may answer it instead (the live
   * engine's canary forwarding, server/_canary_routes.ts). @default undefined
   */
  forward?: (request: Request, url: URL) => Promise<Response | Request | undefined>;
}

interface Match {
  route?: Route;
  params: Record<string, string>;
  /** Methods of the routes whose path matched. */
  allowed: string[];
}

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const have = path.split("/");
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(":")) {
      if (h === "") return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return undefined;
      }
    } else if (w !== h) return undefined;
  }
  return params;
}

function findRoute(method: string, path: string): Match {
  const allowed: string[] = [];
  let found: Match | undefined;
  for (const route of ROUTES) {
    const params = matchPath(route.path, path);
    if (params === undefined) continue;
    allowed.push(route.method);
    if (route.method === method) found ??= { route, params, allowed };
  }
  return found ? { ...found, allowed } : { params: {}, allowed };
}

function allowHeader(methods: string[]): string {
  const all = new Set(methods);
  if (all.has("GET")) all.add("HEAD");
  return [...all].join(", ");
}

/**
 * Creates the request handler of the HTTP API over a run manager.
 *
 * Routes: GET /health (no auth), GET|POST /run, GET|POST /runs, GET /runs/:id,
 * GET /runs/:id/logs, POST /runs/:id/cancel, POST /runs/:id/events/:event,
 * GET /runs/:id/nodes/:node/items, GET /metrics, GET /openapi.json; HEAD works
 * wherever GET does. Errors are `{ error: { code, message, details? } }`. The handler never
 * rejects: unexpected errors become 500 and go to `options.onError`.
 *
 * @throws {TypeError} when `auth.token` is empty
 * @throws {RangeError} when `maxBodyBytes` is not a positive integer
 * @example
 * ```ts
 * import { createHandler } from "./create_handler.ts";
 * import type { RunApi } from "./create_handler.ts";
 * declare const manager: RunApi;
 * const handler = createHandler(manager, { auth: { token: "s3cret" } });
 * Deno.serve({ port: 8080 }, handler);
 * ```
 */
export function createHandler(
  manager: RunApi,
  options: HandlerOptions = {},
): (request: Request) => Promise<Response> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError(
      `Cannot create handler: maxBodyBytes must be a positive integer, got ${maxBodyBytes}`,
    );
  }
  const authenticate: Authenticator | undefined = options.auth
    ? createAuthenticator(options.auth.token)
    : undefined;
  const draining = options.draining ?? (() => false);
  const retryAfter = String(options.retryAfterSeconds ?? 5);

  const dispatch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const method = request.method === "HEAD" ? "GET" : request.method;
    const match = findRoute(method, url.pathname);
    if (draining()) {
      if (match.route?.path === "/health") {
        return jsonResponse(healthBody(manager, true), 503, { "retry-after": retryAfter });
      }
      const probe = probeWhileDraining(manager, match.route?.path, retryAfter);
      if (probe) return probe;
      throw new HttpError(
        ErrorCode.Draining,
        "Cannot accept requests: the server is shutting down",
        {
          headers: { "retry-after": retryAfter },
        },
      );
    }
    if (match.allowed.length === 0 && options.dashboard && method === "GET") {
      const page = await options.dashboard(request);
      if (page !== undefined) return page;
    }
    if (match.route?.auth !== false && authenticate) await authenticate(request);
    const forwarded = match.route?.auth !== false
      ? await options.forward?.(request, url)
      : undefined;
    if (forwarded instanceof Response) return forwarded;
    if (match.allowed.length === 0) {
      throw new HttpError(ErrorCode.NotFound, `Cannot find route ${url.pathname.slice(0, 200)}`, {
        details: { routes: ROUTES.map((r) => `${r.method} ${r.path}`) },
      });
    }
    if (method === "OPTIONS") {
      return new Response(null, { status: 204, headers: { allow: allowHeader(match.allowed) } });
    }
    if (match.route === undefined) {
      throw new HttpError(
        ErrorCode.MethodNotAllowed,
        `Cannot ${request.method.slice(0, 16)} ${url.pathname}: use ${match.allowed.join(" or ")}`,
        { headers: { allow: allowHeader(match.allowed) } },
      );
    }
    const ctx: RouteContext = {
      // The forwarding step may hand back the request with its body read (not forwarded).
      request: forwarded ?? request,
      url,
      params: match.params,
      manager,
      maxBodyBytes,
      authRequired: authenticate !== undefined,
      sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
      signal: options.signal,
    };
    return await match.route.handle(ctx);
  };

  return async (request) => {
    let response: Response;
    try {
      response = await dispatch(request);
    } catch (error) {
      response = errorResponse(toHttpError(error, retryAfter, request, options.onError));
    }
    if (request.method === "HEAD") return await headOf(response);
    return response;
  };
}

/** Known failures of the run manager get their status; anything else is a 500 without details. */
function toHttpError(
  error: unknown,
  retryAfter: string,
  request: Request,
  onError?: (error: unknown, request: Request) => void,
): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof QueueFullError) {
    return new HttpError(ErrorCode.QueueFull, error.message, {
      headers: { "retry-after": retryAfter },
      cause: error,
    });
  }
  if (error instanceof DrainingError) {
    return new HttpError(ErrorCode.Draining, error.message, {
      headers: { "retry-after": retryAfter },
      cause: error,
    });
  }
  onError?.(error, request);
  return new HttpError(ErrorCode.Internal, "Cannot handle request: internal server error", {
    cause: error,
  });
}

/**
 * The answer to HEAD: GET's status and headers with `content-length` of GET's body (an event
 * stream has no length: its body is only cancelled).
 */
async function headOf(response: Response): Promise<Response> {
  const headers = new Headers(response.headers);
  if (headers.get("content-type")?.startsWith("text/event-stream")) {
    await response.body?.cancel();
  } else if (response.body) {
    headers.set("content-length", String((await response.arrayBuffer()).byteLength));
  } else {
    headers.set("content-length", "0");
  }
  return new Response(null, { status: response.status, headers });
}
