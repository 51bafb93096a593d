/**
 * The routes of durable runs (SPEC §9–10): events for waiting runs and the element records of
 * map nodes.
 *
 * @module
 */

import { readJsonBody } from "./_body.ts";
import { EventRejectedError } from "./_durable_runs.ts";
import { ErrorCode, HttpError, jsonResponse } from "./_http_error.ts";
import { intParam, queryOf } from "./_query.ts";
import type { RouteContext } from "./_route.ts";

const STATUSES = ["running", "succeeded", "failed", "cancelled", "waiting"] as const;

/**
 * POST /runs/:id/events/:event: the JSON body is the wait node's output. 200 with the record;
 * 404 for an unknown run; 409 when the run is not waiting for that event.
 */
export async function postEvent(ctx: RouteContext): Promise<Response> {
  queryOf(ctx.url, []);
  const payload = (await readJsonBody(ctx.request, ctx.maxBodyBytes)) ?? null;
  const runId = ctx.params.id!;
  const event = ctx.params.event!;
  try {
    return jsonResponse(await ctx.manager.signal(runId, event, payload));
  } catch (error) {
    if (error instanceof EventRejectedError) {
      throw new HttpError(
        error.reason === "unknown-run" ? ErrorCode.NotFound : ErrorCode.Conflict,
        error.message,
        { cause: error },
      );
    }
    throw error;
  }
}

/** GET /runs/:id/nodes/:node/items?cursor=&limit=&status=: element records, in index order. */
export async function listItems(ctx: RouteContext): Promise<Response> {
  const query = queryOf(ctx.url, ["cursor", "limit", "status"]);
  const runId = ctx.params.id!;
  const node = ctx.params.node!;
  const record = await ctx.manager.getRun(runId);
  if (!record) throw new HttpError(ErrorCode.NotFound, `Cannot find run "${runId.slice(0, 200)}"`);
  const nodeRecord = record.nodes[node];
  if (!nodeRecord) {
    throw new HttpError(
      ErrorCode.NotFound,
      `Cannot find node "${node.slice(0, 200)}" in run "${runId}"`,
    );
  }
  const statusText = query.get("status");
  const status = statusText?.split(",").map((s) => s.trim());
  const bad = status?.find((s) => !(STATUSES as readonly string[]).includes(s));
  if (bad !== undefined) {
    throw new HttpError(
      ErrorCode.BadRequest,
      `Cannot handle query parameter "status": "${bad.slice(0, 32)}" is not an element status; ` +
        `use one or more of ${STATUSES.join(", ")} (comma-separated)`,
    );
  }
  const limit = intParam(query, "limit", 1, 1000);
  const cursor = query.get("cursor");
  if (cursor !== undefined && !/^(0|[1-9][0-9]{0,15})$/.test(cursor)) {
    throw new HttpError(
      ErrorCode.BadRequest,
      `Cannot list items: cursor "${
        cursor.slice(0, 32)
      }" is malformed; pass the nextCursor of the previous page`,
    );
  }
  const page = await ctx.manager.listMapItems(runId, node, {
    ...(cursor === undefined ? {} : { cursor }),
    ...(limit === undefined ? {} : { limit }),
    ...(status === undefined ? {} : { status: status as (typeof STATUSES)[number][] }),
  });
  return jsonResponse({
    items: page.items,
    total: nodeRecord.items?.total ?? null,
    nextCursor: page.nextCursor ?? null,
  });
}
