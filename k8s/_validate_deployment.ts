/**
 * The whole check of a workflow's `deployment:` section — its own keys, and what the rest of the
 * workflow needs from it (NATS for queue triggers and webhooks, a JetStream trigger for KEDA) —
 * with each issue pointed at its line in workflow.yaml.
 *
 * @module
 */

import { relative } from "node:path";
import { type CompiledWorkflow, WorkflowSyntaxError } from "../engine/mod.ts";
import { type DeploymentConfig, parseDeploymentConfig } from "./_deployment_config.ts";
import { kedaIssues } from "./_keda.ts";
import { locateIssues } from "./_locate_issues.ts";
import { natsIssues } from "./_nats_config.ts";

/**
 * The parsed `deployment:` section of a workflow that can be deployed.
 *
 * @throws {WorkflowSyntaxError} listing every issue (unlocated: line 0).
 */
export function validatedDeploymentConfig(workflow: CompiledWorkflow): DeploymentConfig {
  const config = parseDeploymentConfig(workflow.deployment, "workflow.yaml");
  const issues = [...natsIssues(workflow, config.nats), ...kedaIssues(workflow, config)];
  if (issues.length > 0) {
    throw new WorkflowSyntaxError(
      issues.map((i) => ({ file: "workflow.yaml", line: 0, column: 0, ...i })),
    );
  }
  return config;
}

/** Runs `body`; a {@link WorkflowSyntaxError} it throws gets the positions in workflow.yaml. */
export async function withLocatedIssues<T>(
  workflow: CompiledWorkflow,
  body: () => T | Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const text = await Deno.readTextFile(workflow.file).catch(() => undefined);
    throw text === undefined
      ? error
      : locateIssues(error, text, relative(workflow.dir, workflow.file));
  }
}

/**
 * Checks `deployment:` before deploy talks to any cluster.
 *
 * @throws {WorkflowSyntaxError} with every issue at its line and column, and a hint.
 * @example
 * ```ts
 * await checkDeploymentSection(await loadWorkflow("examples/webhook-to-queue"));
 * ```
 */
export async function checkDeploymentSection(workflow: CompiledWorkflow): Promise<void> {
  await withLocatedIssues(workflow, () => validatedDeploymentConfig(workflow));
}
