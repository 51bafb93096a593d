/**
 * An OTLP/HTTP trace receiver for tests: decodes each `POST /v1/traces` body, protobuf
 * (`application/x-protobuf`, with protobufjs and the official opentelemetry-proto definitions
 * vendored in otlp_proto/) or JSON, into the same span shape.
 *
 * @module
 */

import protobuf from "protobufjs";
import { fileURLToPath } from "node:url";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const PROTO_DIR = fileURLToPath(new URL("./otlp_proto/", import.meta.url));

/** ExportTraceServiceRequest of opentelemetry/proto/collector/trace/v1/trace_service.proto. */
function exportTraceServiceRequest(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => PROTO_DIR + target;
  root.loadSync("opentelemetry/proto/collector/trace/v1/trace_service.proto");
  return root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
}

/** A protobuf ExportTraceServiceRequest as its OTLP JSON form (ids as hex, nanos as strings). */
function decodeProtobuf(type: protobuf.Type, body: Uint8Array): Json {
  const doc = type.toObject(type.decode(body), { longs: String, enums: Number }) as Json;
  const hex = (bytes?: Uint8Array) =>
    bytes === undefined ? undefined : Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
      .join("");
  for (const rs of doc.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        span.traceId = hex(span.traceId);
        span.spanId = hex(span.spanId);
        span.parentSpanId = hex(span.parentSpanId);
      }
    }
  }
  return doc;
}

/** An OTLP value ({ stringValue } | { intValue } | …) as a plain value. */
function otlpValue(value: Json): unknown {
  if ("stringValue" in value) return value.stringValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("boolValue" in value) return value.boolValue;
  if ("doubleValue" in value) return value.doubleValue;
  return value;
}

/** One received span. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  status: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  start: bigint;
  end: bigint;
  service: unknown;
}

/** What {@link OtlpReceiver} got in one request. */
export interface ReceivedRequest {
  contentType: string;
  /** The body as UTF-8 text (protobuf strings are UTF-8 too, so a secret would show). */
  text: string;
}

/**
 * The receiver: answers each export with an empty success in the request's encoding, and keeps
 * the spans and the raw requests.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly requests: ReceivedRequest[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #proto = exportTraceServiceRequest();

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/traces") {
        return new Response("not found", { status: 404 });
      }
      const body = new Uint8Array(await req.arrayBuffer());
      const contentType = req.headers.get("content-type") ?? "";
      this.requests.push({ contentType, text: new TextDecoder().decode(body) });
      const protobuf = contentType.startsWith("application/x-protobuf");
      const doc = protobuf
        ? decodeProtobuf(this.#proto, body)
        : JSON.parse(new TextDecoder().decode(body)) as Json;
      this.#collect(doc);
      return protobuf
        ? new Response(new Uint8Array(), { headers: { "content-type": "application/x-protobuf" } })
        : Response.json({ partialSuccess: {} });
    });
  }

  #collect(doc: Json): void {
    for (const rs of doc.resourceSpans ?? []) {
      const resource = Object.fromEntries(
        (rs.resource?.attributes ?? []).map((a: Json) => [a.key, otlpValue(a.value)]),
      );
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            status: span.status ?? {},
            attributes: Object.fromEntries(
              (span.attributes ?? []).map((a: Json) => [a.key, otlpValue(a.value)]),
            ),
            start: BigInt(span.startTimeUnixNano),
            end: BigInt(span.endTimeUnixNano),
            service: resource["service.name"],
          });
        }
      }
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  of(runId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.attributes["pipedreamer.run_id"] === runId);
  }

  async [Symbol.asyncDispose]() {
    await this.#server.shutdown();
  }
}
