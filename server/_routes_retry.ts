/**
 * POST /runs/:id/retry (SPEC §11): a new run that reuses the succeeded nodes of a finished one.
 *
 * @module
 */

import { readJsonBody } from "./_body.ts";
import { ErrorCode, HttpError, jsonResponse } from "./_http_error.ts";
import { queryOf } from "./_query.ts";
import { retryOptionsOf } from "./_retry.ts";
import type { RouteContext } from "./_route.ts";
import { RetryError } from "./errors.ts";

const CODES = {
  not_found: ErrorCode.NotFound,
  conflict: ErrorCode.Conflict,
  bad_request: ErrorCode.BadRequest,
} as const;

/** 202 `{ runId, retryOf, codeHash, warning? }`; 404, 409 or 400 when it cannot retry. */
export async function retryRun(ctx: RouteContext): Promise<Response> {
  queryOf(ctx.url, []);
  try {
    const options = retryOptionsOf(await readJsonBody(ctx.request, ctx.maxBodyBytes));
    const started = await ctx.manager.retry(ctx.params.id!, options);
    return jsonResponse(started, 202, { location: `/runs/${encodeURIComponent(started.runId)}` });
  } catch (error) {
    if (error instanceof RetryError) {
      throw new HttpError(CODES[error.code], error.message, { cause: error });
    }
    throw error;
  }
}
