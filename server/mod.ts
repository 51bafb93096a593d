/**
 * The server layer of `dev` and `serve`: the run manager (durable runs, concurrency control,
 * cron, retention, metrics) and the HTTP API on top of it.
 *
 * @module
 */

// Run manager.
export {
  type RunAndWaitOptions,
  type RunEvent,
  type RunListener,
  RunManager,
  type RunManagerOptions,
  type SubmitOptions,
} from "./run_manager.ts";
export { CronScheduler, type CronSchedulerOptions, cronStateKey } from "./cron_scheduler.ts";
export { DrainingError, QueueFullError, RetryError } from "./errors.ts";
export { deliverEvent, EventRejectedError } from "./_durable_runs.ts";
export type { FindVersion, RetryOptions, RetryStarted } from "./_retry.ts";
export {
  appendExposition,
  type MetricsFormat,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
} from "./_metrics_format.ts";

// HTTP API.
export { createHandler, type HandlerOptions, ROUTES, type RunApi } from "./create_handler.ts";
export {
  CronMode,
  type RunningServer,
  type ServerEvent,
  startServer,
  type StartServerOptions,
} from "./start_server.ts";
export { devReload, type DevReloader, type DevReloadOptions } from "./dev_reload.ts";
export { findSnapshotVersion } from "./_code_versions.ts";
