/**
 * The engine's only public entry: parse → compile → execute, the node runners, secrets and the
 * fixture runner. Every other layer (cli/, server/, k8s/, builder/) imports from here.
 *
 * @module
 */

export * from "./workflow_model.ts";
export * from "./run_record.ts";
export * from "./runner_protocol.ts";
export * from "./durable_protocol.ts";
export * from "./durable_memory.ts";
export * from "./errors.ts";
export type { Context, Logger, NodeFunction } from "./runners/node_api.ts";
/** The text of engine/runners/node_api.ts, copied into new projects by `pipedreamer init`. */
export { default as nodeApiSource } from "./runners/node_api.ts" with { type: "text" };

// Parse → compile.
export * from "./workflow/parse_workflow.ts";
export * from "./workflow/compile_workflow.ts";
export * from "./workflow/load_workflow.ts";
export { withSubWorkflowHashes } from "./workflow/_load_sub_workflows.ts";
export { type TypecheckOptions, typecheckWorkflow } from "./workflow/typecheck_workflow.ts";
export * from "./workflow/render_graph.ts";
export { checkWorkflowName, MAX_WORKFLOW_NAME, toKebabCase } from "./workflow/_names.ts";
export { formatDuration, parseDuration } from "./workflow/_duration.ts";
export { checkCron, isTimeZone, nextCronTime, type NextCronTimeOptions } from "./workflow/_cron.ts";
export { compareVersions, normaliseVersion } from "./workflow/_semver.ts";
export { DEFAULT_CONCURRENCY, DEFAULT_SETTINGS } from "./workflow/_compile_settings.ts";
export {
  concurrencyKeyOf,
  EMPTY_CONCURRENCY_KEY,
  parseJsonPointer,
  resolveJsonPointer,
} from "./workflow/concurrency_key.ts";

// Execute.
export * from "./execute/execute_run.ts";
export { validateInput } from "./workflow/validate_input.ts";
export { systemClock } from "./execute/_clock.ts";
export { iso } from "./execute/_run_context.ts";

// Run nodes.
export * from "./runners/create_runner.ts";
export * from "./runners/in_process_runner.ts";
export * from "./runners/worker_runner.ts";
export {
  createSubprocessRunner,
  type SubprocessRunnerOptions,
} from "./runners/subprocess_runner.ts";
export * from "./runners/process_runner.ts";
export {
  type CommandSandbox,
  commandSandboxProblem,
  defaultCommandSandbox,
  IMAGE_BWRAP,
  setDefaultCommandSandbox,
} from "./runners/_command_sandbox.ts";

// Secrets.
export * from "./secrets.ts";

// Test.
export * from "./fixtures/run_fixtures.ts";
export {
  fixtureFromRun,
  nodesThatRan,
  recordedNodeInput,
  replayNode,
  type ReplayNodeOptions,
  type ReplayResult,
  type RunFixture,
} from "./fixtures/from_run.ts";
