/**
 * OpenTelemetry traces of runs, for `exec`, `dev` and `serve` (SPEC §11). The OpenTelemetry
 * SDK is loaded only by {@link loadRunTracer}, when an OTLP endpoint is configured.
 *
 * @module
 */

import type { RunTracer, RunTracerOptions } from "./run_tracer.ts";

export { isTraceparent, tracingConfigured } from "./config.ts";
export type { RunTrace, RunTracer, RunTracerOptions } from "./run_tracer.ts";

/** The run tracer, loading the OpenTelemetry SDK on first use. */
export async function loadRunTracer(options: RunTracerOptions = {}): Promise<RunTracer> {
  const { RunTracer } = await import("./run_tracer.ts");
  return RunTracer.create(options);
}
