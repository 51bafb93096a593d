/**
 * When traces are exported, and what an incoming `traceparent` must look like. Light: no
 * OpenTelemetry package is loaded by this file.
 *
 * @module
 */

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Whether the environment asks for trace export: an OTLP endpoint is set, and neither
 * `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none`.
 */
export function tracingConfigured(
  env: { get(name: string): string | undefined } = Deno.env,
): boolean {
  const endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ||
    env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (!endpoint) return false;
  if (env.get("OTEL_SDK_DISABLED")?.trim().toLowerCase() === "true") return false;
  const exporters = env.get("OTEL_TRACES_EXPORTER")?.split(",").map((e) => e.trim());
  return !(exporters?.length === 1 && exporters[0] === "none");
}

/** The OTLP encodings traces can be exported with (SPEC §11); `grpc` is not supported. */
export const OtlpProtocol = {
  /** OTLP/HTTP with protobuf bodies (`application/x-protobuf`): the default. */
  Protobuf: "http/protobuf",
  /** OTLP/HTTP with JSON bodies (`application/json`). */
  Json: "http/json",
} as const;
/** One of {@link OtlpProtocol}. */
export type OtlpProtocol = typeof OtlpProtocol[keyof typeof OtlpProtocol];

/**
 * The OTLP protocol traces are exported with: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf` (the OpenTelemetry default). Throws a
 * RangeError naming the variable and the supported values for any other value (`grpc` too).
 */
export function otlpTracesProtocol(
  env: { get(name: string): string | undefined } = Deno.env,
): OtlpProtocol {
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"]) {
    const value = env.get(name)?.trim();
    if (!value) continue;
    const supported: readonly string[] = Object.values(OtlpProtocol);
    if (supported.includes(value)) return value as OtlpProtocol;
    throw new RangeError(
      `Cannot use ${name}="${value}": expected ${supported.map((p) => `"${p}"`).join(" or ")}` +
        (value === "grpc" ? " (OTLP/gRPC is not supported)" : ""),
    );
  }
  return OtlpProtocol.Protobuf;
}

/** Whether `value` is a well-formed W3C `traceparent` header value (version 00 semantics). */
export function isTraceparent(value: string): boolean {
  return TRACEPARENT.test(value) && !/^ff|-0{32}-|-0{16}-/.test(value);
}
