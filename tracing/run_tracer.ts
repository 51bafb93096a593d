/**
 * OpenTelemetry traces of runs (SPEC §11): one trace per run, a span per node attempt, exported
 * over OTLP/HTTP (protobuf, or JSON with `http/json`) with the official OpenTelemetry JS SDK.
 * Configured by the standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL` / `_TRACES_PROTOCOL`,
 * `OTEL_EXPORTER_OTLP_HEADERS` / `_TRACES_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_SDK_DISABLED`,
 * `OTEL_TRACES_EXPORTER=none`.
 *
 * Spans are made from the executor's hooks and the node records' attempt history, so their
 * times are the executor's: an attempt's span starts when the attempt starts (its
 * `traceparent` is what the node's `ctx.fetch` sends) and ends at the attempt's `finishedAt`.
 *
 * @module
 */

import {
  type Context,
  context as contextApi,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { parseTraceParent } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import type { ExecuteHooks, NodeRecord, RunRecord } from "../engine/mod.ts";
import { isTraceparent } from "./config.ts";

/** Attribute names of run and attempt spans. */
export const TraceAttribute = {
  Workflow: "pipedreamer.workflow",
  Version: "pipedreamer.version",
  RunId: "pipedreamer.run_id",
  Node: "pipedreamer.node",
  Attempt: "pipedreamer.attempt",
  Status: "pipedreamer.status",
  Error: "pipedreamer.error",
  Trigger: "pipedreamer.trigger",
  Cached: "pipedreamer.cached",
  RetryOf: "pipedreamer.retry_of",
} as const;

/** Options of {@link RunTracer.create}. */
export interface RunTracerOptions {
  /** Where spans go (tests). @default the OTLP/HTTP exporter the env configures (loadRunTracer) */
  exporter?: SpanExporter;
  /** Applied to error messages before they become span attributes. @default identity */
  redact?: (text: string) => string;
  /** `service.name`. @default env OTEL_SERVICE_NAME, else "pipedreamer" */
  serviceName?: string;
}

/** The tracing of one run: hooks to pass to the executor and its `traceparent` option. */
export interface RunTrace {
  /** `inner`'s hooks (awaited first), plus the span bookkeeping. */
  hooks(inner?: ExecuteHooks): ExecuteHooks;
  /** Starts the span of an attempt and returns its `traceparent` (ExecuteOptions.traceparent). */
  traceparent(node: string, attempt: number): string;
}

/** Exports one trace per run; share one per process and `shutdown()` it at exit. */
export class RunTracer {
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #redact: (text: string) => string;

  private constructor(options: RunTracerOptions & { exporter: SpanExporter }) {
    const exporter = options.exporter;
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({
        "service.name": options.serviceName ?? (Deno.env.get("OTEL_SERVICE_NAME") || "pipedreamer"),
      }),
      spanProcessors: [new BatchSpanProcessor({ exporter })],
    });
    this.#tracer = this.#provider.getTracer("pipedreamer");
    this.#redact = options.redact ?? ((text) => text);
  }

  /** A tracer exporting to `options.exporter`. */
  static create(options: RunTracerOptions & { exporter: SpanExporter }): RunTracer {
    return new RunTracer(options);
  }

  /**
   * Starts the trace of run `runId` of `workflow`: its run span is a root, or the child of
   * `parent` (an incoming W3C `traceparent`; a malformed one is ignored).
   */
  trace(
    runId: string,
    parent?: string,
    workflow?: { name: string; version: string },
  ): RunTrace {
    let parentContext: Context = ROOT_CONTEXT;
    const remote = parent && isTraceparent(parent) ? parseTraceParent(parent) : null;
    if (remote) parentContext = trace.setSpanContext(ROOT_CONTEXT, remote);
    const runSpan = this.#tracer.startSpan(
      "run",
      { kind: SpanKind.INTERNAL, attributes: { [TraceAttribute.RunId]: runId } },
      parentContext,
    );
    const runContext = trace.setSpan(contextApi.active(), runSpan);
    const open = new Map<string, Span>();
    const base: Record<string, string> = { [TraceAttribute.RunId]: runId };
    // Known before the first hook: attempts may start before the run's start is reported.
    if (workflow) {
      base[TraceAttribute.Workflow] = workflow.name;
      base[TraceAttribute.Version] = workflow.version;
      runSpan.updateName(`run ${workflow.name}`);
      runSpan.setAttributes({ ...base });
    }
    let ended = false;
    const tracer = this.#tracer;
    const redact = this.#redact;

    const startAttempt = (node: string, attempt: number, startMs?: number): Span => {
      const span = tracer.startSpan(`node ${node}`, {
        kind: SpanKind.INTERNAL,
        startTime: startMs,
        attributes: { ...base, [TraceAttribute.Node]: node, [TraceAttribute.Attempt]: attempt },
      }, runContext);
      open.set(`${node}#${attempt}`, span);
      return span;
    };
    const endAttempt = (
      span: Span,
      status: string,
      endMs: number | undefined,
      error?: string,
    ) => {
      span.setAttribute(TraceAttribute.Status, status);
      if (error !== undefined) {
        const message = redact(error);
        span.setAttribute(TraceAttribute.Error, message);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      } else if (status === "succeeded") {
        span.setStatus({ code: SpanStatusCode.OK });
      }
      span.end(endMs);
    };
    const nodeUpdated = (nodeId: string, node: NodeRecord) => {
      if (ended || node.reusedFrom) return;
      if (node.cached && node.status === "succeeded" && !node.history) {
        const span = startAttempt(nodeId, 0, Date.parse(node.startedAt ?? "") || undefined);
        open.delete(`${nodeId}#0`);
        span.setAttribute(TraceAttribute.Cached, true);
        endAttempt(span, "succeeded", Date.parse(node.finishedAt ?? "") || undefined);
        return;
      }
      for (const entry of node.history ?? []) {
        if (entry.status === "running") continue;
        const key = `${nodeId}#${entry.attempt}`;
        const span = open.get(key);
        if (!span) continue;
        open.delete(key);
        endAttempt(
          span,
          entry.status,
          Date.parse(entry.finishedAt ?? "") || undefined,
          entry.error?.message,
        );
      }
    };
    const runUpdated = (record: RunRecord) => {
      if (ended) return;
      base[TraceAttribute.Workflow] = record.workflow;
      base[TraceAttribute.Version] = record.version;
      runSpan.updateName(`run ${record.workflow}`);
      runSpan.setAttributes({
        [TraceAttribute.Workflow]: record.workflow,
        [TraceAttribute.Version]: record.version,
        [TraceAttribute.Status]: record.status,
        ...(record.trigger ? { [TraceAttribute.Trigger]: record.trigger } : {}),
        ...(record.retryOf ? { [TraceAttribute.RetryOf]: record.retryOf } : {}),
      });
      if (
        record.status !== "succeeded" && record.status !== "failed" &&
        record.status !== "cancelled"
      ) return;
      // Attempts still open (a hook failure, an engine stop) end with the run.
      const endMs = Date.parse(record.finishedAt ?? "") || undefined;
      for (const key of [...open.keys()]) {
        const nodeId = key.slice(0, key.lastIndexOf("#"));
        const node = record.nodes[nodeId];
        if (node) nodeUpdated(nodeId, node);
        const span = open.get(key);
        if (span) endAttempt(span, "cancelled", endMs);
      }
      open.clear();
      if (record.error) {
        const message = redact(`node "${record.error.node}": ${record.error.message}`);
        runSpan.setAttribute(TraceAttribute.Error, message);
        runSpan.setStatus({ code: SpanStatusCode.ERROR, message });
      } else if (record.status === "succeeded") {
        runSpan.setStatus({ code: SpanStatusCode.OK });
      }
      runSpan.end(endMs);
      ended = true;
    };

    return {
      traceparent(node, attempt) {
        const span = startAttempt(node, attempt);
        const { traceId, spanId, traceFlags } = span.spanContext();
        return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
      },
      hooks(inner) {
        return {
          async onRunUpdate(record) {
            if (inner?.onRunUpdate) await inner.onRunUpdate(record);
            runUpdated(record);
          },
          async onNodeUpdate(runId, nodeId, node, record) {
            if (inner?.onNodeUpdate) await inner.onNodeUpdate(runId, nodeId, node, record);
            nodeUpdated(nodeId, node);
          },
          ...(inner?.onLog ? { onLog: inner.onLog } : {}),
        };
      },
    };
  }

  /** Exports every span still buffered. */
  async flush(): Promise<void> {
    await this.#provider.forceFlush();
  }

  /** Exports every span still buffered and stops the exporter. */
  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }
}
