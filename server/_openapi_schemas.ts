/**
 * The component schemas and building blocks of the OpenAPI document (see _openapi.ts).
 *
 * @module
 */

import { NodeStatus, RunStatus } from "../engine/mod.ts";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** A reference to a component schema. */
export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
/** A JSON response with `schema`. */
export const json = (schema: Json, description: string): Json => ({
  description,
  content: { "application/json": { schema } },
});
/** An error response. */
export const error = (description: string): Json => json(ref("Error"), description);

/** The `:id` path parameter. */
export const RUN_ID: Json = {
  name: "id",
  in: "path",
  required: true,
  description: "Run id",
  schema: { type: "string" },
};
/** The Idempotency-Key header. */
export const IDEMPOTENCY_KEY: Json = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "Repeating a key within 24 h returns the run it created (never a second run)",
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
};

/** The X-Pipedreamer-Trigger header (cron Jobs; runs a live engine forwards to its canary). */
export const TRIGGER: Json = {
  name: "X-Pipedreamer-Trigger",
  in: "header",
  required: false,
  description: "The run's trigger as recorded: manual (default), cron (never sent to a canary) " +
    "or queue",
  schema: { type: "string", enum: ["manual", "cron", "queue"] },
};

/** Every schema but the workflow's own RunInput. */
export const SCHEMAS: Json = {
  Error: {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: {
          code: {
            type: "string",
            description: "bad_request, invalid_input, unauthorized, not_found, " +
              "method_not_allowed, conflict, payload_too_large, unsupported_media_type, " +
              "queue_full, internal, draining",
          },
          message: { type: "string" },
          details: { description: "e.g. { errors: [...] } for invalid_input" },
        },
      },
    },
  },
  ErrorInfo: {
    type: "object",
    required: ["message"],
    properties: {
      message: { type: "string" },
      name: { type: "string" },
      stack: { type: "string" },
      capability: { type: "string" },
    },
  },
  NodeRecord: {
    type: "object",
    required: ["status", "attempts"],
    properties: {
      status: { enum: Object.values(NodeStatus) },
      attempts: { type: "integer", minimum: 0 },
      durationMs: { type: "number" },
      startedAt: { type: "string", format: "date-time" },
      finishedAt: { type: "string", format: "date-time" },
      output: {},
      error: ref("ErrorInfo"),
      cached: { type: "boolean" },
      routes: { type: "array", items: { type: "string" } },
      progress: {
        type: "object",
        required: ["value"],
        properties: { value: { type: "number" }, message: { type: "string" } },
      },
      history: {
        type: "array",
        description: "Every attempt, oldest first",
        items: {
          type: "object",
          required: ["attempt", "status", "startedAt"],
          properties: {
            attempt: { type: "integer", minimum: 1 },
            status: { enum: ["running", "succeeded", "failed", "cancelled"] },
            startedAt: { type: "string", format: "date-time" },
            finishedAt: { type: "string", format: "date-time" },
            error: {
              type: "object",
              required: ["message"],
              properties: { message: { type: "string" }, name: { type: "string" } },
            },
          },
        },
      },
      reusedFrom: { type: "string", description: "The run whose output a retry reused" },
      fetches: {
        type: "array",
        description: "ctx.fetch responses recorded for a node with recordFetch: true (redacted)",
        items: { type: "object" },
      },
      items: {
        type: "object",
        description: "Progress of a map node; element records at /runs/{id}/nodes/{node}/items",
        required: ["total", "succeeded", "failed", "running"],
        properties: {
          total: { type: "integer" },
          succeeded: { type: "integer" },
          failed: { type: "integer" },
          running: { type: "integer" },
        },
      },
      childRunId: { type: "string", description: "The child run of a workflow: node" },
      waitingFor: {
        type: "object",
        description:
          "What a waiting node waits for: a sleep or wait node's event and due time, a sub-workflow node's parked child run",
        properties: {
          event: { type: "string" },
          dueAt: { type: "string", format: "date-time" },
          childRunId: { type: "string", description: "The parked child run" },
          children: { type: "integer", description: "Parked child runs of a mapped node" },
        },
      },
    },
  },
  MapItem: {
    type: "object",
    required: ["index", "status", "attempts"],
    properties: {
      index: { type: "integer", minimum: 0 },
      status: {
        enum: ["running", "succeeded", "failed", "cancelled", "waiting"],
        description: "waiting: the element's child run parked at a sleep or wait",
      },
      attempts: { type: "integer", minimum: 0 },
      startedAt: { type: "string", format: "date-time" },
      finishedAt: { type: "string", format: "date-time" },
      durationMs: { type: "number" },
      output: {},
      error: ref("ErrorInfo"),
      childRunId: { type: "string" },
    },
  },
  MapItemPage: {
    type: "object",
    required: ["items", "total", "nextCursor"],
    properties: {
      items: { type: "array", items: ref("MapItem") },
      total: {
        type: ["integer", "null"],
        description: "Elements of the node (null before it started)",
      },
      nextCursor: { type: ["string", "null"], description: "null on the last page" },
    },
  },
  RunSummary: {
    type: "object",
    required: ["runId", "workflow", "version", "status"],
    properties: {
      runId: { type: "string" },
      workflow: { type: "string" },
      version: { type: "string" },
      status: { enum: Object.values(RunStatus) },
      input: {},
      result: {},
      error: {
        type: "object",
        required: ["node", "message"],
        properties: { node: { type: "string" }, message: { type: "string" } },
      },
      startedAt: { type: "string", format: "date-time" },
      finishedAt: { type: "string", format: "date-time" },
      durationMs: { type: "number" },
      trigger: { type: "string", description: "manual, cron, queue, webhook, retry" },
      codeHash: { type: "string" },
      parentRunId: { type: "string", description: "The run whose workflow: node started this one" },
      parentNode: { type: "string" },
      retryOf: { type: "string", description: "The run this one retries" },
      retryFrom: { type: "string", description: "The node the retry started from" },
      config: { type: "object", description: "The config overlay the run used" },
    },
  },
  RunRecord: {
    allOf: [ref("RunSummary"), {
      type: "object",
      required: ["nodes"],
      properties: { nodes: { type: "object", additionalProperties: ref("NodeRecord") } },
    }],
  },
  RunPage: {
    type: "object",
    required: ["runs", "nextCursor"],
    properties: {
      runs: { type: "array", items: ref("RunSummary") },
      nextCursor: { type: ["string", "null"], description: "null on the last page" },
    },
  },
  RunCounts: {
    type: "object",
    required: ["finished", "total", "failed", "failureRate"],
    description: "Finished runs since the engine started (its pipedreamer_runs_total)",
    properties: {
      finished: { type: "object", additionalProperties: { type: "integer" } },
      total: { type: "integer" },
      failed: { type: "integer", description: "failed and timed out" },
      failureRate: { type: ["number", "null"], description: "null before any run finished" },
    },
  },
  CanaryStatus: {
    type: "object",
    required: ["canary", "runs"],
    properties: {
      canary: {
        oneOf: [{ type: "null" }, {
          type: "object",
          required: ["url", "percent", "version", "routed"],
          properties: {
            url: { type: "string" },
            percent: { type: "integer", minimum: 1, maximum: 99 },
            version: { type: "string" },
            routed: {
              type: "object",
              description: "New runs routed by this engine since it started",
              properties: { live: { type: "integer" }, canary: { type: "integer" } },
            },
          },
        }],
      },
      runs: {
        type: "object",
        required: ["live"],
        properties: {
          live: ref("RunCounts"),
          canary: {
            oneOf: [ref("RunCounts"), {
              type: "object",
              required: ["error"],
              properties: { error: { type: "string" } },
            }],
          },
        },
      },
    },
  },
  RunAccepted: {
    type: "object",
    required: ["runId"],
    properties: { runId: { type: "string" } },
  },
  LogLine: {
    type: "object",
    required: ["seq", "ts", "level", "msg", "runId"],
    properties: {
      seq: { type: "integer", minimum: 1, description: "per-run sequence; the SSE event id" },
      ts: { type: "string", format: "date-time" },
      level: { enum: ["debug", "info", "warn", "error"] },
      msg: { type: "string" },
      runId: { type: "string" },
      node: { type: "string" },
      attempt: { type: "integer" },
      fields: { type: "object" },
    },
  },
  Health: {
    type: "object",
    required: ["status", "workflow", "version", "codeHash", "draining"],
    properties: {
      status: { enum: ["ok", "draining"] },
      workflow: { type: "string" },
      version: { type: "string" },
      codeHash: { type: "string" },
      draining: { type: "boolean" },
    },
  },
  Probe: {
    type: "object",
    required: ["status", "version", "codeHash"],
    properties: {
      status: { enum: ["ok", "draining"] },
      version: { type: "string" },
      codeHash: { type: "string" },
    },
  },
};
