/**
 * `deploy`: load the workflow, generate its manifests (the same ones `--dry-run` prints),
 * apply them server-side, prune what the new version no longer has, and wait for the rollout.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { type CompiledWorkflow, loadSecrets, loadWorkflow } from "../engine/mod.ts";
import { placeWorkflows } from "../builder/mod.ts";
import { decodeBase64, encodeBase64 } from "./_base64.ts";
import { ANNOTATION_CODE_HASH, Component, LABEL_COMPONENT, objectNames } from "./_labels.ts";
import { type AutoscalerChoice, planAutoscaler, retireOtherAutoscaler } from "./_keda.ts";
import { withLocatedIssues } from "./_validate_deployment.ts";
import { deleteObjects, listOwnedObjects, objectKey } from "./_owned_objects.ts";
import { resourcePath } from "./_resources.ts";
import { newToken, TOKEN_KEY } from "./_secrets.ts";
import { applyManifests, type RolloutOptions, waitForRollout } from "./apply.ts";
import { generateManifests, type KubeObject } from "./generate_manifests.ts";
import { FIELD_MANAGER, KubeApiError, type KubeClient } from "./kube_client.ts";
import { type BundleMode, bundleSource, type WorkflowFile } from "./workflow_files.ts";

/** Field manager of the runtime config data, so deploys without `--runtime-config` keep it. */
export const CONFIG_FIELD_MANAGER = "pipedreamer-config";
/**
 * Field manager of the Deployment's `spec.replicas`, applied without force: once an autoscaler
 * or a manual scale (`kubectl scale`) owns the field, the apply conflicts and deploy leaves it.
 */
export const REPLICAS_FIELD_MANAGER = "pipedreamer-replicas";

/** Options of {@link planDeploy}. */
export interface PlanDeployOptions {
  namespace: string;
  /** Image reference; default `<registry>/<workflow>:<version>` (what `build -r` pushes). */
  image?: string;
  /** Registry of the default image. @default undefined */
  registry?: string;
  /** Registry the cluster pulls from (rewrites the image). @default undefined */
  clusterRegistry?: string;
  /** RuntimeClass; `""` disables. @default "gvisor" */
  runtimeClass?: string;
  /** Include the Namespace. @default false */
  createNamespace?: boolean;
  /** Path of a YAML file for `<name>-config` (runtime config). @default undefined */
  runtimeConfigFile?: string;
  /**
   * A pinned API token (`--token-file`): `<name>-token` is then part of the manifests. Without
   * it, deploy creates the token Secret once, when absent, and never rotates it.
   */
  token?: string;
  /** Where the code comes from. @default "bundle" */
  bundle?: BundleMode;
  /** A workflow already loaded from `dir` (skips loading it again). @default undefined */
  workflow?: CompiledWorkflow;
  /** Files already bundled for it (skips bundling again). @default undefined */
  files?: WorkflowFile[];
  /** The API server's endpoints, for `capabilities.k8s` egress. @default undefined */
  apiServerEndpoints?: { ip: string; port: number }[];
  /** API discovery found KEDA (undefined: not asked, e.g. a dry run). @default undefined */
  kedaInstalled?: boolean;
}

/** A workflow and the manifests that deploy it. */
export interface DeployPlan {
  workflow: CompiledWorkflow;
  objects: KubeObject[];
  image: string;
  /** The autoscaler `deployment.autoscale` got (KEDA or the CPU HPA) and why. */
  autoscaler?: AutoscalerChoice;
}

/**
 * Loads the workflow in `dir` and generates its manifests.
 *
 * @throws {import("../engine/mod.ts").WorkflowSyntaxError} for an invalid workflow.
 * @throws {TypeError} when no image can be determined.
 * @example
 * ```ts
 * const plan = await planDeploy("examples/hello-world", { namespace: "default", registry: "ghcr.io/acme" });
 * ```
 */
export async function planDeploy(dir: string, options: PlanDeployOptions): Promise<DeployPlan> {
  const source = options.workflow ?? await loadWorkflow(dir);
  const image = options.image ?? defaultImage(source, options.registry);
  const files = options.files ?? await bundleSource(options.bundle ?? "bundle")(source);
  // The engine hashes the code it loads (the bundle), so the manifests carry that hash: the
  // one /health and every run record of the deployed engine report.
  const workflow = { ...source, codeHash: await deployedCodeHash(files) };
  // Only the project's own secrets: never a mount of the machine deploy runs on.
  const secrets = await loadSecrets(workflow.dir, {
    mountDir: join(workflow.dir, ".secrets", ".none"),
  });
  const subWorkflowSecrets = await bundledSubWorkflowSecrets(source);
  const runtimeConfig = options.runtimeConfigFile !== undefined
    ? await Deno.readTextFile(options.runtimeConfigFile)
    : undefined;
  const objects = await withLocatedIssues(source, () =>
    generateManifests(workflow, {
      namespace: options.namespace,
      image,
      clusterRegistry: options.clusterRegistry,
      runtimeClass: options.runtimeClass,
      files,
      secrets,
      subWorkflowSecrets,
      token: options.token,
      runtimeConfig,
      createNamespace: options.createNamespace,
      apiServerEndpoints: options.apiServerEndpoints,
      kedaInstalled: options.kedaInstalled,
    }));
  const autoscaler = planAutoscaler(workflow, options.kedaInstalled);
  return { workflow, objects, image: engineImage(objects) ?? image, autoscaler };
}

/**
 * Each sub-workflow's own local secrets (never a mount of this machine), by the directory the
 * bundle puts it in (`_workflows/<key>`); sub-workflows without secrets are left out.
 */
async function bundledSubWorkflowSecrets(
  workflow: CompiledWorkflow,
): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const placed of await placeWorkflows(workflow)) {
    if (placed.prefix === "") continue;
    const dir = placed.workflow.dir;
    const secrets = await loadSecrets(dir, { mountDir: join(dir, ".secrets", ".none") });
    if (Object.keys(secrets).length > 0) out[placed.prefix.slice(0, -1)] = secrets;
  }
  return out;
}

/**
 * The code hash the engine computes for these files: they are loaded as `serve` loads
 * /app/workflow.
 */
export async function deployedCodeHash(files: WorkflowFile[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pd-deployed-code-" });
  try {
    for (const file of files) {
      const path = join(dir, file.path);
      await Deno.mkdir(dirname(path), { recursive: true });
      if (typeof file.content === "string") await Deno.writeTextFile(path, file.content);
      else await Deno.writeFile(path, file.content);
      if (file.mode !== undefined) await Deno.chmod(path, file.mode | 0o200);
    }
    return (await loadWorkflow(dir)).codeHash;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The engine container's image in a list of manifests (after `--cluster-registry`). */
export function engineImage(objects: KubeObject[]): string | undefined {
  const deployment = objects.find((o) => o.kind === "Deployment") as
    | { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }
    | undefined;
  return deployment?.spec?.template?.spec?.containers?.[0]?.image;
}

/**
 * The image `build -r <registry>` pushes for this workflow: `<registry>/<name>:<version>`.
 *
 * @throws {TypeError} when there is no registry to derive it from.
 */
export function defaultImage(workflow: CompiledWorkflow, registry: string | undefined): string {
  if (!registry) {
    throw new TypeError(
      `Cannot deploy "${workflow.name}": no image; pass --image <ref> or -r <registry> (the image \`pipedreamer build -r <registry> --push\` pushed)`,
    );
  }
  const host = registry.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
  return `${host}/${workflow.name}:${workflow.version.replaceAll("+", "_")}`;
}

/** The API token already in the cluster, so redeploys keep it. */
export async function existingToken(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<string | undefined> {
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>(
    resourcePath("v1", "Secret", namespace, objectNames(name, namespace).token),
  );
  const value = secret?.data?.[TOKEN_KEY];
  return value ? new TextDecoder().decode(decodeBase64(value)) : undefined;
}

/** Options of {@link deployWorkflow}. */
export interface DeployOptions {
  /** Create the namespace when missing (the plan includes it). @default false */
  createNamespace?: boolean;
  /** Wait for the rollout. @default true */
  wait?: boolean;
  /** Rollout waiting (timeout, progress, clock). */
  rollout?: RolloutOptions;
  /** Progress lines (applied objects, pruned objects). @default undefined */
  onProgress?: (message: string) => void;
}

/** What a deploy did. */
export interface DeployResult {
  context: string;
  namespace: string;
  name: string;
  version: string;
  image: string;
  applied: string[];
  pruned: string[];
}

/**
 * Applies a plan to one cluster: checks the namespace, the shared Secrets and the code version,
 * applies every object, prunes stale ones and waits for the rollout.
 *
 * @throws {Error} "Cannot deploy …" with the fix (missing namespace, missing shared Secret,
 *   changed code under an already deployed version), or the rollout's error.
 * @throws {KubeApiError} when the API server rejects a request (RBAC denials name the verb).
 */
export async function deployWorkflow(
  client: KubeClient,
  plan: DeployPlan,
  options: DeployOptions = {},
): Promise<DeployResult> {
  const { workflow, objects } = plan;
  const deployment = objects.find((o) => o.kind === "Deployment")!;
  const namespace = deployment.metadata.namespace!;
  const progress = options.onProgress ?? (() => {});
  if (
    !options.createNamespace &&
    !(await client.get(resourcePath("v1", "Namespace", undefined, namespace)))
  ) {
    throw new Error(
      `Cannot deploy "${workflow.name}": namespace "${namespace}" does not exist; pass --create-namespace or pick another -n`,
    );
  }
  await checkSharedSecrets(client, workflow.name, namespace, deployment);
  await checkStoreSecret(client, workflow.name, namespace, deployment);
  await checkCodeVersion(client, workflow, objects);
  const deploymentPath = resourcePath(
    "apps/v1",
    "Deployment",
    namespace,
    deployment.metadata.name,
  );
  const firstApply = !(await client.get(deploymentPath));
  const replicas = (deployment.spec as { replicas?: number }).replicas;
  const apply = (list: KubeObject[]) =>
    applyManifests(
      client,
      list.map((o) => o === deployment && !firstApply ? withoutReplicas(o) : o),
      {
        fieldManagerFor: (o) =>
          o.kind === "ConfigMap" && o.metadata.labels?.[LABEL_COMPONENT] === Component.Config &&
            "data" in o
            ? CONFIG_FIELD_MANAGER
            : FIELD_MANAGER,
        onApplied: (o) => progress(`applied ${o.kind.toLowerCase()}/${o.metadata.name}`),
      },
    );
  // The namespace first (--create-namespace), then the token the pods mount, then the rest.
  const applied = await apply(objects.filter((o) => o.kind === "Namespace"));
  if (await createTokenIfAbsent(client, workflow, namespace, objects)) {
    progress(`created secret/${objectNames(workflow.name, namespace).token}`);
  }
  for (const gone of await retireOtherAutoscaler(client, objects, workflow.name, namespace)) {
    progress(`deleted ${gone.toLowerCase()} (replaced by the other autoscaler kind)`);
  }
  applied.push(...await apply(objects.filter((o) => o.kind !== "Namespace")));
  if (replicas !== undefined) {
    const note = await applyReplicas(client, deployment, replicas);
    if (note) progress(note);
  }
  const keep = new Set(objects.map(objectKey));
  // Never pruned: old code (rollback), the run store's volume (history), the token (not
  // rotated), Jobs (their CronJob's), a canary release (promote and rollback end it).
  const kept: string[] = [Component.Code, Component.Data, Component.Token, Component.Canary];
  const stale = (await listOwnedObjects(client, workflow.name, namespace)).filter((o) =>
    !keep.has(objectKey(o)) && !kept.includes(o.metadata.labels?.[LABEL_COMPONENT] ?? "") &&
    o.kind !== "Job" && !(o.metadata.ownerReferences as { controller?: boolean }[] | undefined)
      ?.some((r) => r.controller) // a controller's (KEDA's HPA): it goes with its owner
  );
  const pruned = await deleteObjects(client, stale);
  for (const o of pruned) progress(`pruned ${o.kind.toLowerCase()}/${o.metadata.name}`);
  if (options.wait ?? true) {
    await waitForRollout(client, namespace, deployment.metadata.name, options.rollout);
  }
  return {
    context: client.context,
    namespace,
    name: workflow.name,
    version: workflow.version,
    image: plan.image,
    applied: applied.map((o) => `${o.kind}/${o.metadata.name}`),
    pruned: pruned.map((o) => `${o.kind}/${o.metadata.name}`),
  };
}

/** A pod-spec volume of a generated Deployment, as far as the checks below read it. */
interface PodVolume {
  name: string;
  projected?: { sources: { secret: { name: string } }[] };
  secret?: { secretName: string; items: { key: string }[] };
}

/** The volume `name` of a generated Deployment's pod spec, if it has one. */
function podVolume(deployment: KubeObject, name: string): PodVolume | undefined {
  const spec = deployment.spec as { template: { spec: { volumes: PodVolume[] } } };
  return spec.template.spec.volumes.find((v) => v.name === name);
}

/** `deployment.secrets` name Secrets that must already exist: say which are missing up front. */
export async function checkSharedSecrets(
  client: KubeClient,
  name: string,
  namespace: string,
  deployment: KubeObject,
) {
  const volume = podVolume(deployment, "secrets");
  const own = objectNames(name, namespace).secrets;
  const shared = (volume?.projected?.sources ?? []).map((s) => s.secret.name).filter((n) =>
    n !== own
  );
  const missing: string[] = [];
  for (const secret of shared) {
    if (!(await client.get(resourcePath("v1", "Secret", namespace, secret)))) missing.push(secret);
  }
  if (missing.length > 0) {
    throw new Error(
      `Cannot deploy "${name}": deployment.secrets names Secret${missing.length > 1 ? "s" : ""} ` +
        `${
          missing.map((m) => `"${m}"`).join(", ")
        } that do not exist in namespace "${namespace}"; create them first`,
    );
  }
}

/** `deployment.store` names a Secret with the PostgreSQL URL: it must exist, with that key. */
export async function checkStoreSecret(
  client: KubeClient,
  name: string,
  namespace: string,
  deployment: KubeObject,
) {
  const store = podVolume(deployment, "store")?.secret;
  if (!store) return;
  const key = store.items[0]!.key;
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>(
    resourcePath("v1", "Secret", namespace, store.secretName),
  );
  if (!secret) {
    throw new Error(
      `Cannot deploy "${name}": deployment.store names Secret "${store.secretName}" that does not exist in namespace "${namespace}"; ` +
        `create it with the postgres:// URL under key "${key}"`,
    );
  }
  if (secret.data?.[key] === undefined) {
    throw new Error(
      `Cannot deploy "${name}": Secret "${store.secretName}" has no key "${key}" (deployment.store.key); ` +
        `its keys: ${Object.keys(secret.data ?? {}).join(", ") || "none"}`,
    );
  }
}

/** An immutable code ConfigMap cannot change: a new code must come with a new version. */
export async function checkCodeVersion(
  client: KubeClient,
  workflow: CompiledWorkflow,
  objects: KubeObject[],
) {
  const code = objects.find((o) =>
    o.kind === "ConfigMap" && o.metadata.labels?.[LABEL_COMPONENT] === Component.Code
  )!;
  const live = await client.get<KubeObject>(
    resourcePath("v1", "ConfigMap", code.metadata.namespace, code.metadata.name),
  );
  const liveHash = live?.metadata.annotations?.[ANNOTATION_CODE_HASH];
  if (live && liveHash !== undefined && liveHash !== workflow.codeHash) {
    throw new Error(
      `Cannot deploy "${workflow.name}": version ${workflow.version} is already deployed with different code; ` +
        "bump version in workflow.yaml (deployed versions are immutable, so rollback stays exact)",
    );
  }
}

/** The Deployment without `spec.replicas`: after the first apply, `pipedreamer` never owns it. */
function withoutReplicas(deployment: KubeObject): KubeObject {
  const copy = structuredClone(deployment);
  delete (copy.spec as { replicas?: number }).replicas;
  return copy;
}

/**
 * Applies `spec.replicas` under its own field manager, without force. On the first deploy it
 * co-owns the field with `pipedreamer` (so dropping it from the main apply later keeps the
 * value). Once a HorizontalPodAutoscaler or `kubectl scale` changed the field, they own it
 * and the apply conflicts: deploy leaves it and says so.
 *
 * @returns a progress note, or undefined when replicas were applied.
 */
async function applyReplicas(
  client: KubeClient,
  deployment: KubeObject,
  replicas: number,
): Promise<string | undefined> {
  const { apiVersion, kind, metadata } = deployment;
  try {
    await client.apply(
      {
        apiVersion,
        kind,
        metadata: { name: metadata.name, namespace: metadata.namespace },
        spec: { replicas },
      },
      { fieldManager: REPLICAS_FIELD_MANAGER, force: false },
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof KubeApiError) || error.status !== 409) throw error;
    const live = await client.get<KubeObject & { spec?: { replicas?: number } }>(
      resourcePath(apiVersion, kind, metadata.namespace, metadata.name),
    );
    const owner = (live?.metadata.managedFields as {
      manager?: string;
      fieldsV1?: { "f:spec"?: Record<string, unknown> };
    }[] | undefined)
      ?.find((m) => m.fieldsV1?.["f:spec"]?.["f:replicas"] !== undefined)?.manager;
    return `replicas left at ${live?.spec?.replicas ?? "?"}: owned by ${
      owner ? `"${owner}"` : "another field manager"
    } (an autoscaler or a manual scale)`;
  }
}

/**
 * Creates `<name>-token` with a new random token when the plan does not pin one and the
 * Secret does not exist yet; an existing token is never rotated by deploy.
 *
 * @returns true when it was created.
 */
async function createTokenIfAbsent(
  client: KubeClient,
  workflow: CompiledWorkflow,
  namespace: string,
  objects: KubeObject[],
): Promise<boolean> {
  const name = objectNames(workflow.name, namespace).token;
  if (objects.some((o) => o.kind === "Secret" && o.metadata.name === name)) return false;
  const path = resourcePath("v1", "Secret", namespace, name);
  if (await client.get(path)) return false;
  const code = objects.find((o) => o.metadata.labels?.[LABEL_COMPONENT] === Component.Code);
  const labels = { ...(code?.metadata.labels ?? {}), [LABEL_COMPONENT]: Component.Token };
  try {
    await client.json("POST", resourcePath("v1", "Secret", namespace), {
      body: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace, labels },
        type: "Opaque",
        data: { [TOKEN_KEY]: encodeBase64(newToken()) },
      },
      query: { fieldManager: FIELD_MANAGER },
    });
    return true;
  } catch (error) {
    // Created meanwhile by a concurrent deploy: keep that one.
    if (error instanceof KubeApiError && error.status === 409) return false;
    throw error;
  }
}
