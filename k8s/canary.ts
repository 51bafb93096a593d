/**
 * Canary releases: `deploy --canary <percent>` runs a new version beside the live one and the
 * live engine forwards exactly that share of new runs to it; `promote` makes it the live
 * version; `rollback` (without `--version`) ends it; `status` shows both. The objects are
 * k8s/_canary_manifests.ts's; the split itself is the live engine's (server/_canary.ts), which
 * re-reads the switch ConfigMap it mounts, so no step here rolls the live pod out except the
 * promotion itself.
 *
 * @module
 */

import type { CompiledWorkflow } from "../engine/mod.ts";
import { canaryManifests, canarySwitch, RELEASE_KEY } from "./_canary_manifests.ts";
import {
  type CanaryOptions,
  type Deployment,
  deploymentPath,
  runningCanary,
  untilCanaryIdle,
  untilLiveSees,
  versionOf,
} from "./_canary_engine.ts";
import {
  ANNOTATION_CODE_HASH,
  Component,
  instanceSelector,
  LABEL_COMPONENT,
  objectNames,
} from "./_labels.ts";
import type { KubeObject } from "./_manifest_context.ts";
import { deleteObjects } from "./_owned_objects.ts";
import { resourcePath, RESOURCES } from "./_resources.ts";
import { applyManifests, waitForRollout } from "./apply.ts";
import {
  checkCodeVersion,
  checkSharedSecrets,
  checkStoreSecret,
  type DeployPlan,
  type DeployResult,
  deployWorkflow,
} from "./deploy.ts";
import type { KubeClient } from "./kube_client.ts";

export {
  type CanaryOptions,
  type CanaryStatus,
  canaryStatus,
  type EngineRunCounts,
  runningCanary,
} from "./_canary_engine.ts";

/** What `deploy --canary` did. */
export interface CanaryResult {
  context: string;
  namespace: string;
  name: string;
  live: string;
  canary: string;
  percent: number;
  applied: string[];
}

/** A plain deploy while a canary runs would leave two releases in flight: refuse it. */
export async function assertNoCanary(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<void> {
  const canary = await runningCanary(client, name, namespace);
  if (canary) {
    throw new Error(
      `Cannot deploy "${name}": a canary of version ${
        versionOf(canary)
      } is running in namespace "${namespace}"; ` +
        `end it first with \`pipedreamer promote ${name}\` or \`pipedreamer rollback ${name}\``,
    );
  }
}

/**
 * Starts (or re-weights) a canary of `plan`'s version at `percent` beside the live version.
 *
 * @throws {Error} "Cannot start a canary …" when nothing is live, the live Deployment has no
 *   canary switch, the version is the live one, or a canary of another version runs.
 */
export async function deployCanary(
  client: KubeClient,
  plan: DeployPlan,
  percent: number,
  options: CanaryOptions = {},
): Promise<CanaryResult> {
  const objects = canaryManifests(plan.objects, percent);
  const { name, version } = plan.workflow;
  const live = plan.objects.find((o) => o.kind === "Deployment")!;
  const namespace = live.metadata.namespace!;
  const action = `Cannot start a canary of "${name}" ${version}`;
  const progress = options.onProgress ?? (() => {});
  const current = await client.get<Deployment>(deploymentPath(namespace, name));
  if (!current) {
    throw new Error(
      `${action}: nothing is deployed in namespace "${namespace}"; deploy it first (without --canary)`,
    );
  }
  if (!(current.spec.template.spec.containers[0]?.args ?? []).includes("--canary-file")) {
    throw new Error(
      `${action}: the live Deployment has no canary switch (it was deployed by an older pipedreamer); ` +
        "redeploy the live version first (without --canary)",
    );
  }
  if (versionOf(current) === version) {
    throw new Error(
      `${action}: ${version} is the live version; bump version in workflow.yaml for the canary`,
    );
  }
  const running = await runningCanary(client, name, namespace);
  if (running && versionOf(running) !== version) {
    throw new Error(
      `${action}: a canary of version ${versionOf(running)} is running; ` +
        `end it first with \`pipedreamer promote ${name}\` or \`pipedreamer rollback ${name}\``,
    );
  }
  await checkSharedSecrets(client, name, namespace, live);
  await checkStoreSecret(client, name, namespace, live);
  await checkCodeVersion(client, plan.workflow, plan.objects);
  const toggle = objects.at(-1)!;
  const applied = await applyManifests(client, objects.slice(0, -1), {
    onApplied: (o) => progress(`applied ${o.kind.toLowerCase()}/${o.metadata.name}`),
  });
  const wait = options.wait ?? true;
  if (wait) {
    await waitForRollout(client, namespace, objectNames(name, namespace).canary, options.rollout);
  }
  // Only once the canary is ready does the live engine start forwarding to it.
  applied.push(
    ...await applyManifests(client, [toggle], {
      onApplied: (o) =>
        progress(`applied ${o.kind.toLowerCase()}/${o.metadata.name} (${percent}%)`),
    }),
  );
  if (wait) {
    await untilLiveSees(client, name, namespace, { version, percent }, options);
  }
  return {
    context: client.context,
    namespace,
    name,
    live: versionOf(current),
    canary: version,
    percent,
    applied: applied.map((o) => `${o.kind}/${o.metadata.name}`),
  };
}

/** What `promote` and `rollback` did to a canary. */
export interface EndCanaryResult {
  context: string;
  namespace: string;
  name: string;
  /** The live version before. */
  from: string;
  /** The live version after (the canary's on promote, unchanged on rollback). */
  to: string;
  deleted: string[];
}

/**
 * Ends the canary without changing the live version: the live engine stops forwarding, the
 * canary finishes what it runs, then every canary object is deleted.
 *
 * @throws {Error} "Cannot roll back …" when no canary runs.
 */
export async function rollbackCanary(
  client: KubeClient,
  name: string,
  namespace: string,
  options: CanaryOptions = {},
): Promise<EndCanaryResult> {
  const canary = await runningCanary(client, name, namespace);
  if (!canary) {
    throw new Error(
      `Cannot roll back the canary of "${name}": none is running in namespace "${namespace}"; ` +
        `pass --version <v> to roll the live version back (see \`pipedreamer versions ${name}\`)`,
    );
  }
  const live = await client.get<Deployment>(deploymentPath(namespace, name));
  await stopSplit(client, name, namespace, options);
  const deleted = await deleteCanary(client, name, namespace, options);
  const version = live ? versionOf(live) : "?";
  return { context: client.context, namespace, name, from: version, to: version, deleted };
}

/**
 * Makes the canary the live version: the live engine stops forwarding, the live Deployment
 * (and the cron Jobs, policies and secrets) get the canary version's manifests exactly as a
 * deploy of that version applies them, then the canary objects are deleted.
 *
 * @throws {Error} "Cannot promote …" when no canary runs or its release is gone.
 */
export async function promoteCanary(
  client: KubeClient,
  name: string,
  namespace: string,
  options: CanaryOptions = {},
): Promise<EndCanaryResult> {
  const names = objectNames(name, namespace);
  const canary = await runningCanary(client, name, namespace);
  if (!canary) {
    throw new Error(
      `Cannot promote "${name}": no canary is running in namespace "${namespace}"; ` +
        `start one with \`pipedreamer deploy <dir> --canary <percent>\``,
    );
  }
  const release = await client.get<KubeObject & { data?: Record<string, string> }>(
    resourcePath("v1", "ConfigMap", namespace, names.canaryRelease),
  );
  const text = release?.data?.[RELEASE_KEY];
  if (!text) {
    throw new Error(
      `Cannot promote "${name}": ConfigMap "${names.canaryRelease}" (the canary's manifests) is gone; ` +
        "deploy the canary's version instead after `pipedreamer rollback " + name + "`",
    );
  }
  const objects = JSON.parse(text) as KubeObject[];
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>(
    resourcePath("v1", "Secret", namespace, names.canarySecrets),
  );
  if (secret) {
    objects.unshift({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: names.secrets,
        namespace,
        labels: { ...secret.metadata.labels, [LABEL_COMPONENT]: Component.Secrets },
      },
      type: "Opaque",
      data: secret.data ?? {},
    });
  }
  const live = await client.get<Deployment>(deploymentPath(namespace, name));
  const from = live ? versionOf(live) : "?";
  const version = versionOf(canary);
  await stopSplit(client, name, namespace, options);
  // A plain deploy of the canary's version, from the manifests the canary was made of.
  const workflow = {
    name,
    version,
    codeHash: canary.metadata.annotations?.[ANNOTATION_CODE_HASH] ?? "",
  } as CompiledWorkflow;
  const image = canary.spec.template.spec.containers[0]!.image;
  const plan: DeployPlan = { workflow, objects, image };
  const result: DeployResult = await deployWorkflow(client, plan, {
    wait: options.wait,
    rollout: options.rollout,
    onProgress: options.onProgress,
  });
  const deleted = await deleteCanary(client, name, namespace, options);
  return {
    context: result.context,
    namespace,
    name,
    from,
    to: version,
    deleted,
  };
}

/** Sets the switch to "no canary" and waits until the live engine forwards nothing more. */
async function stopSplit(
  client: KubeClient,
  name: string,
  namespace: string,
  options: CanaryOptions,
): Promise<void> {
  const names = objectNames(name, namespace);
  const current = await client.get<KubeObject>(
    resourcePath("v1", "ConfigMap", namespace, names.canary),
  );
  if (current) {
    await applyManifests(client, [canarySwitch(current, {})]);
    options.onProgress?.(`applied configmap/${names.canary} (no canary)`);
    if (options.wait ?? true) await untilLiveSees(client, name, namespace, null, options);
  }
  if (options.wait ?? true) await untilCanaryIdle(client, name, namespace, options);
}

/** Deletes every canary object, the Deployment first. */
async function deleteCanary(
  client: KubeClient,
  name: string,
  namespace: string,
  options: CanaryOptions,
): Promise<string[]> {
  const objects: KubeObject[] = [];
  for (
    const kind of [
      "Deployment",
      "Service",
      "NetworkPolicy",
      "ConfigMap",
      "Secret",
      "PersistentVolumeClaim",
    ]
  ) {
    const info = RESOURCES.find((r) => r.kind === kind)!;
    const items = await client.list<KubeObject>(resourcePath(info.apiVersion, kind, namespace), {
      labelSelector: instanceSelector(name, { component: Component.Canary }),
    });
    objects.push(...items.map((o) => ({ ...o, apiVersion: info.apiVersion, kind })));
  }
  const deleted = await deleteObjects(client, objects);
  for (const o of deleted) {
    options.onProgress?.(`deleted ${o.kind.toLowerCase()}/${o.metadata.name}`);
  }
  return deleted.map((o) => `${o.kind}/${o.metadata.name}`);
}
