/**
 * The engine's only public entry: parse → compile → execute, the node runners, secrets and the
 * fixture runner. Every other layer (cli/, server/, k8s/, builder/) imports from here.
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export type { Context, Logger, NodeFunction } from "./node_api.ts";
/** The text of engine/node_api.ts, copied into new projects by `pipedreamer init`. */
export { default as nodeApiSource } from "./node_api.ts" with { type: "text" };

// Parse → compile.
export * from "./parse_workflow.ts";
export * from "./compile_workflow.ts";
export * from "./load_workflow.ts";
export * from "./render_graph.ts";
export { checkWorkflowName, MAX_WORKFLOW_NAME, toKebabCase } from "./_names.ts";
export { formatDuration, parseDuration } from "./_duration.ts";
export { checkCron, isTimeZone, nextCronTime, type NextCronTimeOptions } from "./_cron.ts";
export { compareVersions, normaliseVersion } from "./_semver.ts";
export { DEFAULT_CONCURRENCY, DEFAULT_SETTINGS } from "./_compile_settings.ts";

// Execute.
export * from "./execute_run.ts";
export { validateInput } from "./validate_input.ts";
export { systemClock } from "./_clock.ts";
export { FakeClock } from "./fake_clock.ts";

// Run nodes.
export * from "./create_runner.ts";
export * from "./in_process_runner.ts";
export * from "./worker_runner.ts";
export { createSubprocessRunner, type SubprocessRunnerOptions } from "./subprocess_runner.ts";

// Secrets.
export * from "./secrets.ts";

// Test.
export * from "./run_fixtures.ts";
