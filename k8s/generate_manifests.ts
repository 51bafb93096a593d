/**
 * The one manifest generator: `deploy` applies exactly what it returns, and
 * `deploy --dry-run` prints exactly that.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";
import { autoscaler, disruptionBudget, storeClaim } from "./_availability.ts";
import { codeConfigMap, codeEntries, codeInImage, runtimeConfigMap } from "./_config_maps.ts";
import { cronJobs } from "./_cronjob.ts";
import { engineDeployment } from "./_deployment.ts";
import { pullPolicy, rewriteRegistry } from "./_image.ts";
import { chooseAutoscaler, scaledObject } from "./_keda.ts";
import { LABEL_MANAGED_BY, MANAGER } from "./_labels.ts";
import { type KubeObject, manifestContext } from "./_manifest_context.ts";
import { networkPolicies } from "./_network_policy.ts";
import { rbacObjects, serviceAccountFor } from "./_rbac.ts";
import { localSecretEntries, secretsSecret, tokenSecret } from "./_secrets.ts";
import { engineService } from "./_service.ts";
import { validatedDeploymentConfig } from "./_validate_deployment.ts";
import type { WorkflowFile } from "./workflow_files.ts";

export type { KubeObject } from "./_manifest_context.ts";

/** Default RuntimeClass of workflow pods. */
export const DEFAULT_RUNTIME_CLASS = "gvisor";

/** Options of {@link generateManifests}. */
export interface GenerateManifestsOptions {
  /** Target namespace. */
  namespace: string;
  /** Engine image as pushed (e.g. `localhost:5000/pipedreamer:0.1.0`). */
  image: string;
  /** Registry host the cluster pulls from; replaces the image's registry. @default undefined */
  clusterRegistry?: string;
  /** RuntimeClass of every pod; `""` disables it. @default "gvisor" */
  runtimeClass?: string;
  /** Deployable files (workflow.yaml, nodes): see `collectWorkflowFiles`. */
  files: WorkflowFile[];
  /** Local secrets keyed by service (.secrets.yaml or .secrets/). @default {} */
  secrets?: Record<string, unknown>;
  /**
   * Each sub-workflow's own local secrets, by its bundle directory (`_workflows/<key>`):
   * mounted at /app/secrets/.workflows/<dir>/, where the engine loads them for that workflow's
   * child runs. @default {}
   */
  subWorkflowSecrets?: Record<string, Record<string, unknown>>;
  /** A pinned engine API token: `<name>-token` is generated only with it. @default undefined */
  token?: string;
  /** Text of the runtime config (`config.yaml` in `<name>-config`). @default undefined */
  runtimeConfig?: string;
  /** Include the Namespace object. @default false */
  createNamespace?: boolean;
  /**
   * The API server's endpoints: the only egress a node with `capabilities.k8s` gets. Required
   * when such a node exists and the NetworkPolicy is on. @default undefined
   */
  apiServerEndpoints?: { ip: string; port: number }[];
  /**
   * Whether the cluster serves KEDA's ScaledObject (API discovery); undefined: not asked (a dry
   * run). Decides `deployment.autoscale.keda: auto`. @default undefined
   */
  kedaInstalled?: boolean;
}

/**
 * Every object of a workflow's deployment, in apply order.
 *
 * @throws {import("../engine/mod.ts").WorkflowSyntaxError} when `deployment:` is invalid.
 * @throws {TypeError} for a bad image reference or `capabilities.k8s`.
 * @throws {RangeError} when the code does not fit a ConfigMap or a name cannot be a key.
 * @example
 * ```ts
 * const objects = generateManifests(workflow, {
 *   namespace: "default", image: "ghcr.io/acme/pipedreamer:0.1.0", files, token: "…",
 * });
 * ```
 */
export function generateManifests(
  workflow: CompiledWorkflow,
  options: GenerateManifestsOptions,
): KubeObject[] {
  const config = validatedDeploymentConfig(workflow);
  const scaler = chooseAutoscaler(workflow, config, options.kedaInstalled);
  const image = rewriteRegistry(options.image, options.clusterRegistry);
  const runtimeClass = options.runtimeClass ?? DEFAULT_RUNTIME_CLASS;
  const secrets = localSecretEntries(options.secrets ?? {}, options.subWorkflowSecrets);
  const nested = secrets.some((entry) => entry.path !== entry.key);
  const ctx = manifestContext({
    workflow,
    config,
    namespace: options.namespace,
    image,
    pullPolicy: pullPolicy(image),
    runtimeClass: runtimeClass === "" ? undefined : runtimeClass,
    serviceAccount: serviceAccountFor(workflow, config),
    hasLocalSecrets: secrets.length > 0,
    ...(nested ? { localSecretItems: secrets.map(({ key, path }) => ({ key, path })) } : {}),
    apiServerEndpoints: options.apiServerEndpoints,
  });
  const objects: KubeObject[] = [];
  if (options.createNamespace) {
    objects.push({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: options.namespace, labels: { [LABEL_MANAGED_BY]: MANAGER } },
    });
  }
  objects.push(...rbacObjects(ctx));
  const secret = secretsSecret(ctx, secrets);
  if (secret) objects.push(secret);
  if (options.token !== undefined) objects.push(tokenSecret(ctx, options.token));
  objects.push(codeConfigMap(ctx, options.files));
  objects.push(runtimeConfigMap(ctx, options.runtimeConfig));
  objects.push(engineService(ctx));
  objects.push(...storeClaim(ctx));
  objects.push(
    engineDeployment(ctx, codeEntries(options.files), codeInImage(options.files)),
  );
  objects.push(...disruptionBudget(ctx));
  // KEDA creates and owns its own HPA: never both.
  objects.push(...(scaler?.kind === "ScaledObject" ? [scaledObject(ctx)] : autoscaler(ctx)));
  objects.push(...cronJobs(ctx));
  objects.push(...networkPolicies(ctx));
  return objects;
}
