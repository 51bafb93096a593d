/**
 * Kubernetes probes, kept apart from GET /health: `/ready` (readiness) fails while the server
 * drains, so the pod leaves the Service's endpoints, and `/live` (liveness) keeps answering 200
 * while it drains, so the kubelet does not kill a pod that is finishing its runs.
 *
 * @module
 */

import { jsonResponse } from "./_http_error.ts";
import type { RouteContext } from "./_route.ts";
import type { RunApi } from "./_run_api.ts";

/** Paths of the probe routes. */
export const ProbePath = { Ready: "/ready", Live: "/live" } as const;

/** The body of both probes. */
function probeBody(manager: RunApi, draining: boolean): Record<string, unknown> {
  return {
    status: draining ? "draining" : "ok",
    version: manager.workflow.version,
    codeHash: manager.workflow.codeHash,
  };
}

/** GET /ready (no auth): 200 while accepting runs; the draining 503 comes from {@link probeWhileDraining}. */
export function ready(ctx: RouteContext): Promise<Response> {
  return Promise.resolve(jsonResponse(probeBody(ctx.manager, false)));
}

/** GET /live (no auth): 200 while the process serves HTTP at all. */
export function live(ctx: RouteContext): Promise<Response> {
  return Promise.resolve(jsonResponse(probeBody(ctx.manager, false)));
}

/** The answer of a probe path while draining: /ready 503, /live 200; undefined for other paths. */
export function probeWhileDraining(
  manager: RunApi,
  path: string | undefined,
  retryAfter: string,
): Response | undefined {
  if (path === ProbePath.Ready) {
    return jsonResponse(probeBody(manager, true), 503, { "retry-after": retryAfter });
  }
  if (path === ProbePath.Live) return jsonResponse(probeBody(manager, true));
  return undefined;
}
