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

/** Whether `value` is a well-formed W3C `traceparent` header value (version 00 semantics). */
export function isTraceparent(value: string): boolean {
  return TRACEPARENT.test(value) && !/^ff|-0{32}-|-0{16}-/.test(value);
}
