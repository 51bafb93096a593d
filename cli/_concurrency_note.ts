/**
 * `validate`'s note on concurrency limits with several replicas: `maxRuns`, `queueLimit` and
 * `maxRunsTotal` are counted by each `serve` process, so with several replicas they hold per
 * replica, not across the deployment.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";

/** The most replicas `deployment:` may run (`autoscale.max`, else `replicas`), 1 when unset. */
function mostReplicas(deployment: Record<string, unknown> | undefined): number {
  const autoscale = deployment?.autoscale as Record<string, unknown> | undefined;
  const most = typeof autoscale === "object" && autoscale !== null
    ? autoscale.max
    : deployment?.replicas;
  return typeof most === "number" && Number.isInteger(most) && most > 1 ? most : 1;
}

/** The note for a workflow deployed with more than one replica, else undefined. */
export function concurrencyNote(workflow: CompiledWorkflow): string | undefined {
  const replicas = mostReplicas(workflow.deployment);
  const c = workflow.concurrency;
  if (replicas === 1 || !c) return undefined;
  const perKey = c.key === undefined ? "" : ` per value of ${c.key}`;
  const total = c.maxRunsTotal === undefined
    ? ""
    : ` and maxRunsTotal ${c.maxRunsTotal} (up to ${replicas * c.maxRunsTotal} in all)`;
  return `note: concurrency limits hold per replica: with up to ${replicas} replicas, maxRuns ` +
    `${c.maxRuns}${perKey} allows up to ${replicas * c.maxRuns} runs at once${total}; ` +
    "queueLimit and startDelay also apply per replica";
}
