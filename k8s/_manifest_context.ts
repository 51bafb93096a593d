/**
 * What every manifest builder receives: the workflow, its parsed `deployment:` section and the
 * deploy options, with names and labels derived once.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";
import type { DeploymentConfig } from "./_deployment_config.ts";
import { type Component, objectNames, workflowLabels } from "./_labels.ts";

/** Any Kubernetes object (plain JSON). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Shared input of the manifest builders. */
export interface ManifestContext {
  workflow: CompiledWorkflow;
  config: DeploymentConfig;
  namespace: string;
  /** Final image reference (after `--cluster-registry`). */
  image: string;
  pullPolicy: "Always" | "IfNotPresent";
  /** RuntimeClass name; undefined when disabled. */
  runtimeClass?: string;
  /** Service account the engine pods run as; undefined means none (no token mounted). */
  serviceAccount?: string;
  /** Local secrets are deployed as `<name>-secrets`. */
  hasLocalSecrets: boolean;
  /**
   * Where each key of `<name>-secrets` goes under /app/secrets, when a sub-workflow has secrets
   * of its own (else every key is a file of its name). @default undefined
   */
  localSecretItems?: { key: string; path: string }[];
  /** The API server's endpoints (the `kubernetes` Service's), for `capabilities.k8s` egress. */
  apiServerEndpoints?: { ip: string; port: number }[];
  names: ReturnType<typeof objectNames>;
  labels(component: Component, clusterScoped?: boolean): Record<string, string>;
}

/** Builds the {@link ManifestContext} (names and labels) for one deploy. */
export function manifestContext(
  fields: Omit<ManifestContext, "names" | "labels">,
): ManifestContext {
  const { workflow, namespace, config } = fields;
  return {
    ...fields,
    names: objectNames(workflow.name, namespace),
    labels: (component, clusterScoped = false) =>
      workflowLabels(workflow, component, {
        partOf: config.partOf,
        namespace: clusterScoped ? namespace : undefined,
      }),
  };
}

/** Mount points inside the engine container. */
export const Paths = {
  workflow: "/app/workflow",
  config: "/app/config",
  secrets: "/app/secrets",
  token: "/app/token",
  tokenFile: "/app/token/token",
  tmp: "/tmp",
  /** Code snapshots (and the run store without a volume): scratch. */
  data: "/tmp/pipedreamer",
  /** The SQLite run store's PersistentVolumeClaim. */
  store: "/var/lib/pipedreamer",
  /** The PostgreSQL URL from `deployment.store`'s Secret. */
  storeUrl: "/app/store",
} as const;

/** Seconds between the preStop hook and SIGTERM: endpoints stop routing to the pod first. */
export const PRE_STOP_SECONDS = 5;

/** Fixed non-root user and group of every container. */
export const RUN_AS = 65532;
