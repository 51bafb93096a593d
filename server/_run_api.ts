/**
 * What the HTTP layer needs from the {@link RunManager}, so handler tests may pass any object
 * that behaves the same.
 *
 * @module
 */

import type { RunManager } from "./run_manager.ts";

export type { RunAndWaitOptions, RunEvent, SubmitOptions } from "./run_manager.ts";

/** The run manager as the HTTP layer sees it. */
export type RunApi = Pick<
  RunManager,
  | "workflow"
  | "submit"
  | "runAndWait"
  | "cancel"
  | "retry"
  | "getRun"
  | "listRuns"
  | "getLogs"
  | "signal"
  | "listMapItems"
  | "subscribe"
  | "metrics"
>;
