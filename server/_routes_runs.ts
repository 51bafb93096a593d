/**
 * The run routes: sync and async starts, listing, records, logs (JSON lines or SSE), cancel.
 *
 * @module
 */

import {
  InputValidationError,
  isFinishedStatus,
  type RunRecord,
  RunStatus,
} from "../engine/mod.ts";
import { parseJson, readJsonBody } from "./_body.ts";
import { ErrorCode, HttpError, jsonResponse } from "./_http_error.ts";
import { intParam, queryOf } from "./_query.ts";
import type { RouteContext } from "./_route.ts";
import { runEventStream } from "./_sse.ts";
import { isTraceparent } from "../tracing/mod.ts";
import { HEADER_TRIGGERS, TRIGGER_HEADER } from "./_canary_routes.ts";

const STATUSES: readonly string[] = Object.values(RunStatus);
/** Printable ASCII without spaces, as in the IETF Idempotency-Key draft's examples. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKey(request: Request): string | undefined {
  const key = request.headers.get("idempotency-key");
  if (key === null) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpError(
      ErrorCode.BadRequest,
      "Cannot use the Idempotency-Key header: it must be 1 to 255 printable ASCII characters without spaces",
    );
  }
  return key;
}

/** A well-formed incoming W3C `traceparent` header (a malformed one is ignored, as W3C says). */
function traceparentOf(request: Request): string | undefined {
  const value = request.headers.get("traceparent")?.trim().toLowerCase();
  return value && isTraceparent(value) ? value : undefined;
}

/** `X-Pipedreamer-Trigger` (cron Jobs, runs the live engine forwards to a canary), else manual. */
function triggerOf(request: Request): string {
  const trigger = request.headers.get(TRIGGER_HEADER);
  if (trigger === null) return "manual";
  if (!(HEADER_TRIGGERS as readonly string[]).includes(trigger)) {
    throw new HttpError(
      ErrorCode.BadRequest,
      `Cannot use the X-Pipedreamer-Trigger header: expected one of ${
        HEADER_TRIGGERS.join(", ")
      }, got "${trigger.slice(0, 40)}"`,
    );
  }
  return trigger;
}

/** The run input: the JSON body (POST) or `?input=` (GET); `{}` when none is given. */
async function runInput(ctx: RouteContext): Promise<unknown> {
  if (ctx.request.method === "POST") {
    queryOf(ctx.url, []);
    return (await readJsonBody(ctx.request, ctx.maxBodyBytes)) ?? {};
  }
  const text = queryOf(ctx.url, ["input"]).get("input");
  return text === undefined ? {} : parseJson(text, 'query parameter "input"');
}

/** Maps the manager's input rejection to 400 with the schema errors. */
async function starting<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof InputValidationError) {
      throw new HttpError(ErrorCode.InvalidInput, error.message, {
        details: { errors: error.errors },
        cause: error,
      });
    }
    throw error;
  }
}

async function existingRun(ctx: RouteContext): Promise<RunRecord> {
  const runId = ctx.params.id!;
  const record = await ctx.manager.getRun(runId);
  if (record === undefined) {
    throw new HttpError(ErrorCode.NotFound, `Cannot find run "${runId.slice(0, 200)}"`);
  }
  return record;
}

/** GET|POST /run: starts a run and answers with its record when it ends. */
export async function runSync(ctx: RouteContext): Promise<Response> {
  const input = await runInput(ctx);
  const key = idempotencyKey(ctx.request);
  const record = await starting(() =>
    ctx.manager.runAndWait(input, {
      idempotencyKey: key,
      trigger: triggerOf(ctx.request),
      traceparent: traceparentOf(ctx.request),
    })
  );
  return jsonResponse(record, record.status === RunStatus.Succeeded ? 200 : 422, {
    location: `/runs/${encodeURIComponent(record.runId)}`,
  });
}

/** POST /runs: 202 { runId } for a new run, 200 with the same runId for a repeated key. */
export async function submitRun(ctx: RouteContext): Promise<Response> {
  queryOf(ctx.url, []);
  const input = (await readJsonBody(ctx.request, ctx.maxBodyBytes)) ?? {};
  const key = idempotencyKey(ctx.request);
  const { runId, created } = await starting(() =>
    ctx.manager.submit(input, {
      idempotencyKey: key,
      trigger: triggerOf(ctx.request),
      traceparent: traceparentOf(ctx.request),
    })
  );
  return jsonResponse({ runId }, created ? 202 : 200, {
    location: `/runs/${encodeURIComponent(runId)}`,
  });
}

/** An ISO 8601 date ("2025-01-31", UTC midnight) or date-time with a zone, or undefined. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function timeParam(query: Map<string, string>, name: string): number | undefined {
  const text = query.get(name);
  if (text === undefined) return undefined;
  const ms = ISO_TIME.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new HttpError(
      ErrorCode.BadRequest,
      `Cannot handle query parameter "${name}": expected an ISO 8601 date or date-time with a ` +
        `time zone (2025-01-31 or 2025-01-31T09:30:00Z), got "${text.slice(0, 40)}"`,
    );
  }
  return ms;
}

/** GET /runs?status=&q=&since=&until=&limit=&cursor= */
export async function listRuns(ctx: RouteContext): Promise<Response> {
  const query = queryOf(ctx.url, ["status", "q", "since", "until", "limit", "cursor"]);
  const statusText = query.get("status");
  let status: RunStatus[] | undefined;
  if (statusText !== undefined) {
    status = statusText.split(",").map((s) => s.trim()) as RunStatus[];
    const bad = status.find((s) => !STATUSES.includes(s));
    if (bad !== undefined) {
      throw new HttpError(
        ErrorCode.BadRequest,
        `Cannot handle query parameter "status": "${bad.slice(0, 32)}" is not a run status; ` +
          `use one or more of ${STATUSES.join(", ")} (comma-separated)`,
      );
    }
  }
  const runIdPrefix = query.get("q")?.trim();
  if (runIdPrefix !== undefined && (runIdPrefix.length === 0 || runIdPrefix.length > 200)) {
    throw new HttpError(
      ErrorCode.BadRequest,
      'Cannot handle query parameter "q": expected 1 to 200 characters of a run id',
    );
  }
  const createdFrom = timeParam(query, "since");
  const createdBefore = timeParam(query, "until");
  if (createdFrom !== undefined && createdBefore !== undefined && createdFrom >= createdBefore) {
    throw new HttpError(
      ErrorCode.BadRequest,
      'Cannot handle query parameters "since" and "until": since must be earlier than until',
    );
  }
  const limit = intParam(query, "limit", 1, 1000);
  let page;
  try {
    page = await ctx.manager.listRuns({
      status,
      runIdPrefix,
      createdFrom,
      createdBefore,
      limit,
      cursor: query.get("cursor"),
    });
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new HttpError(
        ErrorCode.BadRequest,
        `Cannot list runs: ${error.message}; pass the nextCursor of the previous page`,
        { cause: error },
      );
    }
    throw error;
  }
  return jsonResponse({ runs: page.runs, nextCursor: page.nextCursor ?? null });
}

/** GET /runs/:id */
export async function getRun(ctx: RouteContext): Promise<Response> {
  queryOf(ctx.url, []);
  return jsonResponse(await existingRun(ctx));
}

/** GET /runs/:id/logs: JSON lines, or server-sent events with `Accept: text/event-stream`. */
export async function getLogs(ctx: RouteContext): Promise<Response> {
  const query = queryOf(ctx.url, ["after", "node", "limit"]);
  const record = await existingRun(ctx);
  const node = query.get("node");
  const after = intParam(query, "after", 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const wantsSse = /\btext\/event-stream\b/i.test(ctx.request.headers.get("accept") ?? "");
  if (wantsSse) {
    const lastEventId = ctx.request.headers.get("last-event-id");
    const resumed = lastEventId !== null && /^\d{1,15}$/.test(lastEventId.trim())
      ? Number(lastEventId.trim())
      : 0;
    const stream = runEventStream(ctx.manager, record.runId, {
      afterSeq: Math.max(after, resumed),
      node,
      heartbeatMs: ctx.sseHeartbeatMs,
      signal: ctx.signal,
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  }
  const limit = intParam(query, "limit", 1, 100_000);
  const lines = await ctx.manager.getLogs(record.runId, { afterSeq: after, node, limit });
  return new Response(lines.map((line) => `${JSON.stringify(line)}\n`).join(""), {
    headers: { "content-type": "application/x-ndjson; charset=utf-8" },
  });
}

/** POST /runs/:id/cancel: 200 with the record; 409 when the run already finished. */
export async function cancelRun(ctx: RouteContext): Promise<Response> {
  queryOf(ctx.url, []);
  const record = await existingRun(ctx);
  const conflict = (status: string) =>
    new HttpError(
      ErrorCode.Conflict,
      `Cannot cancel run "${record.runId}": it already finished with status "${status}"`,
      { details: { status } },
    );
  if (isFinishedStatus(record.status)) throw conflict(record.status);
  const cancelled = await ctx.manager.cancel(record.runId);
  if (cancelled === undefined) {
    throw new HttpError(ErrorCode.NotFound, `Cannot find run "${record.runId}"`);
  }
  // It finished on its own between the read above and the cancel.
  if (cancelled.status === RunStatus.Succeeded || cancelled.status === RunStatus.Failed) {
    throw conflict(cancelled.status);
  }
  return jsonResponse(cancelled);
}
