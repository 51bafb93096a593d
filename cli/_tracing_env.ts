/**
 * Start-up check of the trace export variables of `dev`, `serve` and `exec`: an unsupported
 * OTLP protocol is a usage error before anything runs, like a bad `PIPEDREAMER_CRON`.
 *
 * @module
 */

import type { Command } from "commander";
import { otlpTracesProtocol, tracingConfigured } from "../tracing/mod.ts";
import { usageError } from "./_output.ts";

/**
 * When traces are exported, fails `command` (exit 2) if `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` /
 * `OTEL_EXPORTER_OTLP_PROTOCOL` names an encoding we do not export (`grpc`, a typo).
 */
export function checkTracingEnv(command: Command): void {
  if (!tracingConfigured()) return;
  try {
    otlpTracesProtocol();
  } catch (error) {
    if (error instanceof RangeError) usageError(command, error.message);
    throw error;
  }
}
