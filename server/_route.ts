/**
 * The route table's types: what a route handler receives.
 *
 * @module
 */

import type { RunApi } from "./_run_api.ts";

/** Everything a route handler needs about one request. */
export interface RouteContext {
  request: Request;
  url: URL;
  /** Path parameters (`:id`), decoded. */
  params: Record<string, string>;
  manager: RunApi;
  maxBodyBytes: number;
  /** Whether requests must carry the bearer token (for /openapi.json). */
  authRequired: boolean;
  sseHeartbeatMs: number;
  /** Aborted when the server shuts down: ends event streams. */
  signal?: AbortSignal;
}

/** One route of the HTTP API. */
export interface Route {
  method: "GET" | "POST";
  /** Path with `:name` segments, e.g. `/runs/:id/logs`. */
  path: string;
  /** False only for /health. */
  auth: boolean;
  handle(ctx: RouteContext): Promise<Response>;
}
