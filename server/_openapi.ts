/**
 * The OpenAPI 3.1 document of the HTTP API (GET /openapi.json): every route, the run record
 * (SPEC §6), the error shape, and the workflow's own `inputSchema` as the run input.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";
import {
  error,
  IDEMPOTENCY_KEY,
  type Json,
  json,
  ref,
  RUN_ID,
  SCHEMAS,
  TRIGGER,
} from "./_openapi_schemas.ts";

/** The API token as a bearer token, or in a header that survives the k8s service proxy. */
const SECURITY_SCHEMES: Json = {
  bearer: {
    type: "http",
    scheme: "bearer",
    description: "The API token: `Authorization: Bearer <token>`",
  },
  tokenHeader: {
    type: "apiKey",
    in: "header",
    name: "X-Pipedreamer-Token",
    description: "The same API token, for clients behind a proxy that drops `Authorization` " +
      "(the Kubernetes API server's service proxy, used by `pipedreamer run <name>`)",
  },
};

/** Options of {@link buildOpenApi}. */
export interface OpenApiOptions {
  /** Whether routes other than /health need the API token (bearer or X-Pipedreamer-Token). */
  auth: boolean;
}

/** The OpenAPI 3.1 document of the API serving `workflow`. */
export function buildOpenApi(workflow: CompiledWorkflow, options: OpenApiOptions): Json {
  const common: Json = {
    ...(options.auth ? { "401": error("Missing or wrong API token") } : {}),
    "503": error("The server is draining (shutting down)"),
  };
  const badRequest = error("Bad JSON, bad parameters, or input that fails inputSchema");
  const notFound = error("No such run");
  const body: Json = {
    required: false,
    description: "The run input (JSON); an empty body means {}",
    content: { "application/json": { schema: ref("RunInput") } },
  };
  const startErrors: Json = {
    "400": badRequest,
    "413": error("Body over the size limit"),
    "415": error("Content-Type is not JSON"),
    "429": error("The run queue is full; see Retry-After"),
  };
  const syncResponses: Json = {
    "200": json(ref("RunRecord"), "The run succeeded"),
    "422": json(ref("RunRecord"), "The run failed or was cancelled"),
    ...startErrors,
    ...common,
  };
  const inputQuery: Json = {
    name: "input",
    in: "query",
    required: false,
    description: "The run input as JSON; {} when absent",
    schema: { type: "string" },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: `${workflow.name} (pipedreamer)`,
      version: workflow.version,
      ...(workflow.description ? { description: workflow.description } : {}),
    },
    // Either scheme: the same token as a bearer token or in X-Pipedreamer-Token.
    ...(options.auth ? { security: [{ bearer: [] }, { tokenHeader: [] }] } : {}),
    paths: {
      "/health": {
        get: {
          summary: "Liveness and version",
          security: [],
          responses: {
            "200": json(ref("Health"), "Serving"),
            "503": json(ref("Health"), "Draining"),
          },
        },
      },
      "/ready": {
        get: {
          summary: "Readiness: fails while draining (Kubernetes readinessProbe)",
          security: [],
          responses: {
            "200": json(ref("Probe"), "Accepting runs"),
            "503": json(ref("Probe"), "Draining"),
          },
        },
      },
      "/live": {
        get: {
          summary: "Liveness: 200 while serving, draining included (Kubernetes livenessProbe)",
          security: [],
          responses: { "200": json(ref("Probe"), "Alive") },
        },
      },
      "/run": {
        get: {
          summary: "Run once and wait for the record",
          parameters: [inputQuery, IDEMPOTENCY_KEY, TRIGGER],
          responses: syncResponses,
        },
        post: {
          summary: "Run once and wait for the record",
          parameters: [IDEMPOTENCY_KEY, TRIGGER],
          requestBody: body,
          responses: syncResponses,
        },
      },
      "/runs": {
        get: {
          summary: "List runs, newest first",
          parameters: [
            {
              name: "status",
              in: "query",
              description: "Comma-separated run statuses",
              schema: { type: "string" },
            },
            {
              name: "q",
              in: "query",
              description: "Only runs whose id starts with this text (case-sensitive)",
              schema: { type: "string", minLength: 1, maxLength: 200 },
            },
            {
              name: "since",
              in: "query",
              description:
                "Only runs created at or after this time: an ISO 8601 date (UTC midnight) or date-time with a zone",
              schema: { type: "string", examples: ["2025-01-31", "2025-01-31T09:30:00Z"] },
            },
            {
              name: "until",
              in: "query",
              description: "Only runs created before this time (same format as since)",
              schema: { type: "string" },
            },
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
            },
            { name: "cursor", in: "query", schema: { type: "string" } },
          ],
          responses: { "200": json(ref("RunPage"), "One page"), "400": badRequest, ...common },
        },
        post: {
          summary: "Start a run without waiting",
          parameters: [IDEMPOTENCY_KEY, TRIGGER],
          requestBody: body,
          responses: {
            "202": json(ref("RunAccepted"), "Run created"),
            "200": json(ref("RunAccepted"), "The run an earlier request with this key created"),
            ...startErrors,
            ...common,
          },
        },
      },
      "/runs/{id}": {
        get: {
          summary: "The run record",
          parameters: [RUN_ID],
          responses: { "200": json(ref("RunRecord"), "The run"), "404": notFound, ...common },
        },
      },
      "/runs/{id}/logs": {
        get: {
          summary: "Log lines: JSON lines, or server-sent events with Accept: text/event-stream",
          description: "SSE events: `log` (id = seq; Last-Event-ID resumes), `node`, `run`, " +
            "and `end` with the final record, after which the stream closes",
          parameters: [
            RUN_ID,
            { name: "after", in: "query", schema: { type: "integer", minimum: 0 } },
            { name: "node", in: "query", schema: { type: "string" } },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1 } },
            { name: "Last-Event-ID", in: "header", schema: { type: "string" } },
          ],
          responses: {
            "200": {
              description: "The lines",
              content: {
                "application/x-ndjson": { schema: ref("LogLine") },
                "text/event-stream": { schema: { type: "string" } },
              },
            },
            "400": badRequest,
            "404": notFound,
            ...common,
          },
        },
      },
      "/runs/{id}/cancel": {
        post: {
          summary: "Cancel a queued or running run",
          parameters: [RUN_ID],
          responses: {
            "200": json(ref("RunRecord"), "Cancelled"),
            "404": notFound,
            "409": error("The run already finished"),
            ...common,
          },
        },
      },
      "/runs/{id}/events/{event}": {
        post: {
          summary: "Send an event to a run waiting for it (a `wait:` node)",
          description: "The JSON body (empty: null) becomes the wait node's output and the " +
            "run resumes. For `event: approval` the dashboard sends `{ approved, comment }`.",
          parameters: [RUN_ID, {
            name: "event",
            in: "path",
            required: true,
            description: "The event name of the wait node, e.g. approval",
            schema: { type: "string" },
          }],
          requestBody: {
            required: false,
            description: "The event payload (any JSON)",
            content: { "application/json": { schema: {} } },
          },
          responses: {
            "200": json(ref("RunRecord"), "Delivered; the record after delivery"),
            "400": badRequest,
            "404": notFound,
            "409": error(
              "The run is not waiting for this event (the message says what it waits for)",
            ),
            "413": error("Body over the size limit"),
            ...common,
          },
        },
      },
      "/runs/{id}/nodes/{node}/items": {
        get: {
          summary: "The element records of a map node, in index order",
          parameters: [
            RUN_ID,
            {
              name: "node",
              in: "path",
              required: true,
              description: "The map node's id",
              schema: { type: "string" },
            },
            {
              name: "cursor",
              in: "query",
              required: false,
              description: "nextCursor of the previous page",
              schema: { type: "string" },
            },
            {
              name: "limit",
              in: "query",
              required: false,
              description: "Page size (default 100)",
              schema: { type: "integer", minimum: 1, maximum: 1000 },
            },
            {
              name: "status",
              in: "query",
              required: false,
              description:
                "Comma-separated element statuses (running, succeeded, failed, cancelled, waiting)",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": json(ref("MapItemPage"), "One page of element records"),
            "400": badRequest,
            "404": error("No such run, or no such node in it"),
            ...common,
          },
        },
      },
      "/runs/{id}/retry": {
        post: {
          summary: "Retry a finished run: a new run that reuses the nodes that succeeded",
          parameters: [RUN_ID],
          requestBody: {
            required: false,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    from: {
                      type: "string",
                      description: "Also run this node and its descendants again",
                    },
                  },
                },
              },
            },
          },
          responses: {
            "202": json({
              type: "object",
              required: ["runId", "retryOf"],
              properties: {
                runId: { type: "string" },
                retryOf: { type: "string" },
                codeHash: { type: "string" },
                warning: {
                  type: "string",
                  description: "Set when the run's code version is gone and the current one runs",
                },
              },
            }, "The retry started"),
            "400": error("Malformed body or unknown from node"),
            "404": notFound,
            "409": error("The run has not ended, or it succeeded and no from node was given"),
            ...common,
          },
        },
      },
      "/canary": {
        get: {
          summary: "A live engine's canary release: the split and both engines' run counts " +
            "(answered only by an engine started with --canary-file; 404 elsewhere)",
          responses: { "200": json(ref("CanaryStatus"), "The canary, or null"), ...common },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          responses: {
            "200": {
              description: "Text exposition format 0.0.4",
              content: { "text/plain": { schema: { type: "string" } } },
            },
            ...common,
          },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          responses: { "200": json({ type: "object" }, "OpenAPI 3.1"), ...common },
        },
      },
      ...hooksPath(workflow),
    },
    components: {
      schemas: {
        ...SCHEMAS,
        RunInput: rebaseRefs(workflow.inputSchema ?? {}, "#/components/schemas/RunInput") as Json,
      },
      ...(options.auth ? { securitySchemes: SECURITY_SCHEMES } : {}),
    },
  };
}

/**
 * `POST /hooks/{name}` when the workflow declares webhooks (served with `--nats-url`): not
 * behind the API token, each hook verifies its sender (docs/queues.md).
 */
function hooksPath(workflow: CompiledWorkflow): Json {
  const names = Object.keys(workflow.webhooks ?? {});
  if (names.length === 0) return {};
  return {
    "/hooks/{name}": {
      post: {
        summary: "Publish a verified webhook body to the hook's queue subject",
        description: "Verified by the hook's GitHub signature, HMAC header or bearer token " +
          "(workflow.yaml `webhooks:`), not by the API token",
        security: [],
        parameters: [{ name: "name", in: "path", required: true, schema: { enum: names } }],
        requestBody: { required: false, content: { "*/*": { schema: {} } } },
        responses: {
          "202": json({
            type: "object",
            required: ["hook", "subject", "stream", "seq", "duplicate"],
            properties: {
              hook: { type: "string" },
              subject: { type: "string" },
              stream: { type: "string" },
              seq: { type: "integer" },
              duplicate: { type: "boolean" },
            },
          }, "Stored in the stream; a queue trigger runs the workflow"),
          "401": error("Missing or bad signature or token; nothing was published"),
          "404": error("No such hook"),
          "405": error("Not POST"),
          "413": error("Body over the hook's size limit"),
          "503": error("The stream did not store it (NATS down or no stream); retry"),
        },
      },
    },
  };
}

/** Local `$ref`s of the embedded input schema point into its new place in the document. */
function rebaseRefs(value: unknown, base: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rebaseRefs(item, base));
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === "$ref" && typeof inner === "string" && inner.startsWith("#")
      ? `${base}${inner.slice(1)}`
      : rebaseRefs(inner, base);
  }
  return out;
}
