/**
 * What the queue triggers need from the run manager, and how they report.
 *
 * @module
 */

import type { RunRecord } from "../engine/mod.ts";

/**
 * The part of the server's RunManager a queue trigger uses. `submit` validates the input
 * (rejecting with an `InputValidationError`), returns the existing run for a repeated
 * idempotency key (`created: false`) and may reject with errors named `QueueFullError` or
 * `DrainingError`; `wait` resolves once the run is finished and stored.
 */
export interface QueueRuns {
  submit(
    input: unknown,
    options?: { idempotencyKey?: string; trigger?: string },
  ): Promise<{ runId: string; created: boolean }>;
  wait(runId: string): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /**
   * Unfinished runs with this trigger that this manager took over from the store (resumed after
   * a restart or from a dead replica) rather than received from a consumer: they count against
   * a queue trigger's `maxConcurrency` until they end. @default none
   */
  adoptedRuns?(trigger: string): string[];
}

/** Log levels of {@link QueueLog}. */
export const QueueLogLevel = {
  Info: "info",
  Warn: "warn",
  Error: "error",
} as const;
/** One of {@link QueueLogLevel}. */
export type QueueLogLevel = typeof QueueLogLevel[keyof typeof QueueLogLevel];

/** Receives the triggers' operational log lines (only cli/ prints them). */
export type QueueLog = (
  level: QueueLogLevel,
  message: string,
  fields?: Record<string, unknown>,
) => void;
