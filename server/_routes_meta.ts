/**
 * The routes about the server itself: health, Prometheus metrics, the OpenAPI document.
 *
 * @module
 */

import { jsonResponse } from "./_http_error.ts";
import { metricsContentType, metricsFormatOf } from "./_metrics_format.ts";
import { buildOpenApi } from "./_openapi.ts";
import { queryOf } from "./_query.ts";
import type { RunApi } from "./_run_api.ts";
import type { RouteContext } from "./_route.ts";

/** The body of GET /health. */
export function healthBody(manager: RunApi, draining: boolean): Record<string, unknown> {
  const workflow = manager.workflow;
  return {
    status: draining ? "draining" : "ok",
    workflow: workflow.name,
    version: workflow.version,
    codeHash: workflow.codeHash,
    draining,
  };
}

/** GET /health (no auth): 200 while serving; the draining variant is answered by the handler. */
export function health(ctx: RouteContext): Promise<Response> {
  return Promise.resolve(jsonResponse(healthBody(ctx.manager, false)));
}

/** GET /metrics: Prometheus text format 0.0.4, or OpenMetrics when the Accept header asks. */
export async function metrics(ctx: RouteContext): Promise<Response> {
  queryOf(ctx.url, []);
  const format = metricsFormatOf(ctx.request.headers.get("accept"));
  return new Response(await ctx.manager.metrics(format), {
    headers: { "content-type": metricsContentType(format) },
  });
}

/** GET /openapi.json */
export function openApi(ctx: RouteContext): Promise<Response> {
  queryOf(ctx.url, []);
  return Promise.resolve(
    jsonResponse(buildOpenApi(ctx.manager.workflow, { auth: ctx.authRequired })),
  );
}
