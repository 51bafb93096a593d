/**
 * The official OTLP/HTTP span exporter of the configured protocol (SPEC §11): protobuf bodies
 * by default, JSON ones with `http/json`. Each exporter package is imported only when chosen.
 *
 * @module
 */

import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { OtlpProtocol } from "./config.ts";

/** A span exporter sending to the endpoint and headers of the environment, in `protocol`. */
export async function loadOtlpExporter(protocol: OtlpProtocol): Promise<SpanExporter> {
  if (protocol === OtlpProtocol.Json) {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  return new OTLPTraceExporter();
}
