/**
 * `createDashboard()`: the web dashboard of `dev` and `serve` as a request handler that
 * createHandler() (server/) consults for GET paths that are no API route.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";
import { type Asset, embeddedAssets, pageShell } from "./_assets.ts";
import { runsEventStream, type SubscribeAll } from "./_runs_event_stream.ts";
import { describeWorkflow } from "./describe_workflow.ts";

export type { DashboardRunEvent, SubscribeAll } from "./_runs_event_stream.ts";

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The workflow served now (`dev` replaces it on reload). */
  workflow: () => CompiledWorkflow;
  /**
   * Path the dashboard is mounted at, starting and ending with "/"; its data endpoints live
   * below it (`api/workflow`, `api/events`) while the page calls the HTTP API at the root.
   * @default "/"
   */
  basePath?: string;
  /**
   * Checks requests for data (`api/*`); rejects to deny them. A rejection carrying a numeric
   * `status` (server/'s HttpError) is answered with that status, its `headers` and the API's
   * error shape; any other rejection propagates. The page and its assets are public: they hold
   * no data.
   * @default undefined (no auth, as in `dev`)
   */
  authenticate?: (request: Request) => Promise<void>;
  /**
   * Subscribes to every run's events (RunManager.subscribe with "*"); enables `api/events`,
   * the live stream of the runs list.
   * @default undefined (api/events answers 404, the list loads without live updates)
   */
  subscribe?: SubscribeAll;
  /** Aborting it ends open event streams (shutdown). @default undefined */
  signal?: AbortSignal;
  /** Interval of SSE keep-alive comments; 0 disables them. @default 15_000 */
  heartbeatMs?: number;
}

/** Answers dashboard requests; undefined for paths that are not the dashboard's. */
export type DashboardHandler = (request: Request) => Promise<Response | undefined>;

/** Response headers of the page: no inline script, no framing, nothing sent to other sites. */
const PAGE_HEADERS: Record<string, string> = {
  "content-security-policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

function checkBasePath(basePath: string): string {
  if (!/^\/([A-Za-z0-9._~-]+\/)*$/.test(basePath)) {
    throw new TypeError(
      `Cannot create dashboard: basePath "${basePath}" must start and end with "/", e.g. "/ui/"`,
    );
  }
  return basePath;
}

function assetResponse(request: Request, asset: Asset, extra: Record<string, string> = {}) {
  const headers = {
    "content-type": asset.contentType,
    "cache-control": "no-cache",
    etag: asset.etag,
    ...extra,
  };
  const match = request.headers.get("if-none-match");
  if (match !== null && match.split(",").some((tag) => tag.trim() === asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(asset.body, { headers });
}

function json(value: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(value, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Applies `authenticate`; a Response when the request is denied. */
async function denied(
  authenticate: DashboardOptions["authenticate"],
  request: Request,
): Promise<Response | undefined> {
  if (!authenticate) return undefined;
  try {
    await authenticate(request);
    return undefined;
  } catch (error) {
    const e = error as { status?: unknown; code?: unknown; message?: unknown; headers?: unknown };
    if (typeof e?.status !== "number" || e.status < 400 || e.status > 599) throw error;
    const code = typeof e.code === "string" ? e.code : "unauthorized";
    const message = typeof e.message === "string" ? e.message : "Cannot authenticate";
    const headers = typeof e.headers === "object" && e.headers !== null
      ? e.headers as Record<string, string>
      : {};
    return json({ error: { code, message } }, e.status, headers);
  }
}

/**
 * Creates the dashboard handler: GET `<basePath>` (and `index.html`) is the page shell,
 * `assets/app.js` and `assets/app.css` its embedded files (public, with ETags), and, behind
 * `authenticate`, `api/workflow` (the {@link describeWorkflow} JSON: nodes, edges, triggers,
 * capabilities, version, code hash, inputSchema and the server-computed graph layout) and
 * `api/events` (server-sent run changes). Other paths and methods resolve to undefined.
 *
 * @throws {TypeError} When `basePath` does not start and end with "/"
 * @throws {RangeError} When `heartbeatMs` is negative
 * @example
 * ```ts
 * import { createHandler } from "../server/mod.ts";
 * declare const manager: import("../server/mod.ts").RunManager;
 * const dashboard = createDashboard({
 *   workflow: () => manager.workflow,
 *   subscribe: (id, listener) => manager.subscribe(id, listener),
 * });
 * Deno.serve(createHandler(manager, { dashboard }));
 * ```
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const basePath = checkBasePath(options.basePath ?? "/");
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  if (!(heartbeatMs >= 0)) {
    throw new RangeError(`Cannot create dashboard: heartbeatMs must be >= 0, got ${heartbeatMs}`);
  }
  // The page finds the HTTP API at the root, relative to itself (so a proxy prefix still works).
  const depth = basePath.split("/").length - 2;
  const apiBase = depth === 0 ? "./" : "../".repeat(depth);

  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    const url = new URL(request.url);
    const path = url.pathname;
    if (basePath !== "/" && path === basePath.slice(0, -1)) {
      return new Response(null, { status: 308, headers: { location: basePath + url.search } });
    }
    if (!path.startsWith(basePath)) return undefined;
    const rest = path.slice(basePath.length);
    if (rest === "" || rest === "index.html") {
      return assetResponse(request, await pageShell(apiBase), PAGE_HEADERS);
    }
    const asset = (await embeddedAssets())[rest];
    if (asset) return assetResponse(request, asset, { "x-content-type-options": "nosniff" });
    if (rest === "api/workflow") {
      const refusal = await denied(options.authenticate, request);
      if (refusal) return refusal;
      const info = describeWorkflow(options.workflow());
      return json(info, 200, { "cache-control": "private, no-cache" });
    }
    if (rest === "api/events" && options.subscribe) {
      const refusal = await denied(options.authenticate, request);
      if (refusal) return refusal;
      const stream = runsEventStream(options.subscribe, { heartbeatMs, signal: options.signal });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
        },
      });
    }
    return undefined;
  };
}
