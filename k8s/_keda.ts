/**
 * `deployment.autoscale` with queue triggers: a KEDA ScaledObject on the JetStream consumers'
 * lag where KEDA is installed, else the CPU HorizontalPodAutoscaler. Never both: KEDA creates
 * and owns its own HPA for the Deployment.
 *
 * Which one is decided by `deployment.autoscale.keda`: `true` (KEDA; deploy fails on a cluster
 * without it), `false` (the CPU HPA) or `auto` (the default: KEDA when API discovery finds
 * `keda.sh/v1alpha1` `scaledobjects`, as kubectl would; a dry run looks at no cluster and picks
 * the HPA, so its output stays the same for the same inputs).
 *
 * @module
 */

import type { CompiledWorkflow, QueueTrigger } from "../engine/mod.ts";
import { type DeploymentConfig, parseDeploymentConfig } from "./_deployment_config.ts";
import { Component, LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGER } from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";
import { resourcePath } from "./_resources.ts";
import { KubeApiError, type KubeClient } from "./kube_client.ts";

/** KEDA's API group version and the ScaledObject resource. */
export const KEDA_API_VERSION = "keda.sh/v1alpha1";
const SCALED_OBJECTS = "scaledobjects";
/** KEDA copies a ScaledObject's labels onto its HPA unless listed here. */
const EXCLUDED_LABELS_ANNOTATION = "scaledobject.keda.sh/hpa-excluded-labels";

/** The autoscaler deploy generates, and why. */
export interface AutoscalerChoice {
  kind: "ScaledObject" | "HorizontalPodAutoscaler";
  reason: string;
}

/** The JetStream queue triggers (KEDA scales on their consumers' lag), one per consumer. */
export function jetStreamTriggers(
  workflow: CompiledWorkflow,
): (QueueTrigger & { stream: string })[] {
  const seen = new Set<string>();
  return workflow.triggers.filter((t): t is QueueTrigger & { stream: string } => {
    if (t.type !== "queue" || t.stream === undefined) return false;
    const key = `${t.stream}/${t.durable}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Issues of `autoscale.keda: true` that no cluster can fix (collected with the others). */
export function kedaIssues(
  workflow: CompiledWorkflow,
  config: DeploymentConfig,
): { message: string; hint: string }[] {
  if (config.autoscale?.keda !== true) return [];
  if (jetStreamTriggers(workflow).length === 0) {
    return [{
      message: "deployment.autoscale.keda: true needs a queue trigger with stream: " +
        "(KEDA scales on a JetStream consumer's lag)",
      hint: "add stream: to a queue trigger, or use keda: false (the CPU HorizontalPodAutoscaler)",
    }];
  }
  if (config.nats?.monitoring === undefined) {
    return [{
      message: "deployment.nats.monitoring: KEDA reads the consumer's lag from the NATS " +
        "monitoring endpoint, and it is unknown (deployment.nats has no host)",
      hint: "add monitoring: <nats host>:8222 (or host:) to deployment.nats",
    }];
  }
  return [];
}

/**
 * Picks the autoscaler. `kedaInstalled` is what API discovery found (undefined: no cluster was
 * asked, e.g. a dry run).
 *
 * @throws {Error} when `keda: true` and the cluster has no KEDA.
 */
export function chooseAutoscaler(
  workflow: CompiledWorkflow,
  config: DeploymentConfig,
  kedaInstalled: boolean | undefined,
): AutoscalerChoice | undefined {
  const a = config.autoscale;
  if (!a) return undefined;
  const hpa = (reason: string): AutoscalerChoice => ({ kind: "HorizontalPodAutoscaler", reason });
  if (a.keda === false) return hpa("deployment.autoscale.keda is false");
  if (a.keda === true) {
    if (kedaInstalled === false) {
      throw new Error(
        `Cannot deploy "${workflow.name}": deployment.autoscale.keda is true, but the cluster has no KEDA ` +
          `(API discovery finds no ${KEDA_API_VERSION} ${SCALED_OBJECTS}); install KEDA, or set keda: auto or false`,
      );
    }
    return { kind: "ScaledObject", reason: "deployment.autoscale.keda is true" };
  }
  if (jetStreamTriggers(workflow).length === 0) {
    return hpa("no queue trigger with stream: (KEDA would scale on a JetStream consumer's lag)");
  }
  if (config.nats?.monitoring === undefined) {
    return hpa("deployment.nats gives no monitoring endpoint for KEDA");
  }
  if (kedaInstalled === undefined) {
    return hpa(
      "keda: auto and no cluster was asked (dry run); set deployment.autoscale.keda: true " +
        "for the KEDA ScaledObject",
    );
  }
  return kedaInstalled
    ? { kind: "ScaledObject", reason: `API discovery found ${KEDA_API_VERSION} ${SCALED_OBJECTS}` }
    : hpa(`API discovery found no ${KEDA_API_VERSION} ${SCALED_OBJECTS} (KEDA is not installed)`);
}

/**
 * KEDA's ScaledObject for the engine Deployment: one `nats-jetstream` trigger per consumer the
 * queue triggers create (stream and durable name as the engine creates them), plus CPU, so the
 * HTTP API's load still scales it.
 */
export function scaledObject(ctx: ManifestContext): KubeObject {
  const a = ctx.config.autoscale!;
  const nats = ctx.config.nats!;
  const labels = ctx.labels(Component.Autoscale);
  return {
    apiVersion: KEDA_API_VERSION,
    kind: "ScaledObject",
    metadata: {
      name: ctx.names.autoscaler,
      namespace: ctx.namespace,
      labels,
      // KEDA's own HPA must not look like one of this workflow's objects (prune, undeploy).
      annotations: { [EXCLUDED_LABELS_ANNOTATION]: Object.keys(labels).sort().join(",") },
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: ctx.names.deployment },
      minReplicaCount: a.min,
      maxReplicaCount: a.max,
      triggers: [
        ...jetStreamTriggers(ctx.workflow).map((t) => ({
          type: "nats-jetstream",
          metadata: {
            natsServerMonitoringEndpoint: nats.monitoring!,
            account: nats.account,
            stream: t.stream,
            consumer: t.durable,
            lagThreshold: String(a.lagThreshold),
          },
        })),
        { type: "cpu", metricType: "Utilization", metadata: { value: String(a.cpu) } },
      ],
    },
  };
}

/**
 * API discovery of KEDA's ScaledObject (`GET /apis/keda.sh/v1alpha1`, as kubectl finds
 * resources): true when the cluster serves it.
 */
export async function kedaInstalled(client: KubeClient): Promise<boolean> {
  try {
    const list = await client.json<{ resources?: { name?: string }[] }>(
      "GET",
      `/apis/${KEDA_API_VERSION}`,
    );
    return (list?.resources ?? []).some((r) => r.name === SCALED_OBJECTS);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return false;
    throw error;
  }
}

/** Whether deploy must ask the cluster: `autoscale` with `keda` not false. */
export function needsKedaLookup(workflow: CompiledWorkflow): boolean {
  const autoscale = (workflow.deployment as { autoscale?: { keda?: unknown } } | undefined)
    ?.autoscale;
  return autoscale !== undefined && autoscale !== null && autoscale.keda !== false;
}

/** {@link chooseAutoscaler} on a workflow's own `deployment:` (already validated). */
export function planAutoscaler(
  workflow: CompiledWorkflow,
  kedaInstalled: boolean | undefined,
): AutoscalerChoice | undefined {
  return chooseAutoscaler(
    workflow,
    parseDeploymentConfig(workflow.deployment, "workflow.yaml"),
    kedaInstalled,
  );
}

/**
 * Before applying: deletes this workflow's autoscaler of the other kind (an HPA when the plan has
 * a ScaledObject, and the reverse), so the Deployment never has two (KEDA's admission webhook
 * also refuses a ScaledObject for a Deployment another HPA scales).
 *
 * @returns what was deleted, as `kind/name`.
 */
export async function retireOtherAutoscaler(
  client: KubeClient,
  objects: KubeObject[],
  name: string,
  namespace: string,
): Promise<string[]> {
  const planned = objects.find((o) =>
    o.kind === "ScaledObject" || o.kind === "HorizontalPodAutoscaler"
  );
  if (!planned) return [];
  const other = planned.kind === "ScaledObject"
    ? { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" }
    : { apiVersion: KEDA_API_VERSION, kind: "ScaledObject" };
  const path = resourcePath(other.apiVersion, other.kind, namespace, planned.metadata.name);
  const live = await client.get<KubeObject>(path).catch((error) => {
    // No KEDA in the cluster: no ScaledObject to retire.
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  });
  const ours = live?.metadata.labels?.[LABEL_INSTANCE] === name &&
    live.metadata.labels?.[LABEL_MANAGED_BY] === MANAGER;
  if (!ours || !(await client.delete(path))) return [];
  return [`${other.kind}/${planned.metadata.name}`];
}
