/**
 * OpenTelemetry traces of runs, for `exec`, `dev` and `serve` (SPEC §11). The OpenTelemetry
 * SDK is loaded only by {@link loadRunTracer}, when an OTLP endpoint is configured.
 *
 * @module
 */

import type { RunTracer, RunTracerOptions } from "./run_tracer.ts";
import { otlpTracesProtocol } from "./config.ts";

export { isTraceparent, OtlpProtocol, otlpTracesProtocol, tracingConfigured } from "./config.ts";
export type { RunTrace, RunTracer, RunTracerOptions } from "./run_tracer.ts";

/**
 * The run tracer, loading the OpenTelemetry SDK on first use. Without `options.exporter`, spans
 * go to the OTLP exporter of {@link otlpTracesProtocol} (a RangeError for an unsupported one).
 */
export async function loadRunTracer(options: RunTracerOptions = {}): Promise<RunTracer> {
  let exporter = options.exporter;
  if (exporter === undefined) {
    const protocol = otlpTracesProtocol();
    const { loadOtlpExporter } = await import("./otlp_exporter.ts");
    exporter = await loadOtlpExporter(protocol);
  }
  const { RunTracer } = await import("./run_tracer.ts");
  return RunTracer.create({ ...options, exporter });
}
