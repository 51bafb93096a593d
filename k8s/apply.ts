/**
 * Applying manifests (server-side apply, field manager "pipedreamer") and waiting for the
 * engine Deployment to roll out, with progress, a timeout and clear errors for image pulls,
 * missing Secrets and stuck rollouts.
 *
 * @module
 */

import { type Clock, systemClock } from "../engine/mod.ts";
import { engineSelector, selectorString } from "./_labels.ts";
import type { KubeObject } from "./_manifest_context.ts";
import { resourcePath } from "./_resources.ts";
import { FIELD_MANAGER, type KubeClient } from "./kube_client.ts";

/** Options of {@link applyManifests}. */
export interface ApplyOptions {
  /** Field manager per object. @default () => "pipedreamer" */
  fieldManagerFor?: (object: KubeObject) => string;
  /** Called after each object is applied. @default undefined */
  onApplied?: (object: KubeObject) => void;
}

/**
 * Server-side applies every object in order (force: Pipedreamer owns what it generates).
 *
 * @throws {import("./kube_client.ts").KubeApiError} on the first object the API server rejects.
 * @example
 * ```ts
 * await applyManifests(client, generateManifests(workflow, options));
 * ```
 */
export async function applyManifests(
  client: KubeClient,
  objects: KubeObject[],
  options: ApplyOptions = {},
): Promise<KubeObject[]> {
  const applied: KubeObject[] = [];
  for (const object of objects) {
    const fieldManager = options.fieldManagerFor?.(object) ?? FIELD_MANAGER;
    applied.push(await client.apply(object, { fieldManager, force: true }));
    options.onApplied?.(object);
  }
  return applied;
}

/** Options of {@link waitForRollout}. */
export interface RolloutOptions {
  /** Give up after this long. @default 300_000 */
  timeoutMs?: number;
  /** Delay between status polls. @default 1_000 */
  pollMs?: number;
  /** Time source. @default systemClock */
  clock?: Clock;
  /** Receives a line whenever the rollout's progress changes. @default undefined */
  onProgress?: (message: string) => void;
  /** Stops waiting. @default undefined */
  signal?: AbortSignal;
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

interface Pod extends KubeObject {
  spec?: { volumes?: { persistentVolumeClaim?: { claimName: string } }[] };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      image?: string;
      state?: { waiting?: { reason?: string; message?: string } };
    }[];
  };
}

interface KubeEvent {
  involvedObject?: { name?: string; kind?: string };
  type?: string;
  reason?: string;
  message?: string;
}

const PULL_FAILURES = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"];
const CONFIG_FAILURES = ["CreateContainerConfigError", "CreateContainerError"];

/**
 * Polls the Deployment until every replica runs the new pod template.
 *
 * @throws {Error} "Cannot roll out …" naming the cause: an image that does not exist, missing
 *   registry credentials, a missing Secret or ConfigMap, a crash loop, or the timeout.
 * @example
 * ```ts
 * await waitForRollout(client, "default", "hello", { onProgress: console.error });
 * ```
 */
export async function waitForRollout(
  client: KubeClient,
  namespace: string,
  name: string,
  options: RolloutOptions = {},
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const start = clock.now();
  let last = "";
  for (;;) {
    options.signal?.throwIfAborted();
    const dep = await client.get<
      KubeObject & {
        spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
        status?: DeploymentStatus;
      }
    >(
      resourcePath("apps/v1", "Deployment", namespace, name),
    );
    if (!dep) {
      throw new Error(
        `Cannot roll out "${name}": Deployment "${namespace}/${name}" does not exist`,
      );
    }
    const want = dep.spec?.replicas ?? 1;
    const s = dep.status ?? {};
    const generation = Number(dep.metadata.generation ?? 0);
    const observed = (s.observedGeneration ?? 0) >= generation;
    const message = !observed
      ? "waiting for the Deployment controller to pick up the new version"
      : `${s.updatedReplicas ?? 0} of ${want} updated, ${s.availableReplicas ?? 0} available`;
    if (message !== last) options.onProgress?.(message);
    last = message;
    if (
      observed && (s.updatedReplicas ?? 0) >= want && (s.replicas ?? 0) === want &&
      (s.availableReplicas ?? 0) >= want
    ) {
      return;
    }
    const stuck = s.conditions?.find((c) => c.type === "Progressing" && c.status === "False");
    if (stuck) {
      throw new Error(
        `Cannot roll out "${name}": ${stuck.reason ?? "not progressing"}: ${stuck.message ?? ""}`
          .trim(),
      );
    }
    // The Deployment's own pods (a canary's are not selected by the workflow's engine selector).
    const selector = dep.spec?.selector?.matchLabels ?? engineSelector(name);
    if (observed) await failOnPodProblems(client, namespace, name, selector);
    if (clock.now() - start >= timeoutMs) {
      throw new Error(
        `Cannot roll out "${name}": not ready after ${
          Math.round(timeoutMs / 1000)
        }s (${message}); ` +
          `see \`pipedreamer status ${name} --detail\` or raise --timeout`,
      );
    }
    await clock.sleep(options.pollMs ?? 1_000, options.signal);
  }
}

/** Throws when a pod of the new version cannot start for a reason that will not heal itself. */
async function failOnPodProblems(
  client: KubeClient,
  namespace: string,
  name: string,
  selector: Record<string, string>,
): Promise<void> {
  const pods = await client.list<Pod>(resourcePath("v1", "Pod", namespace), {
    labelSelector: selectorString(selector),
  });
  for (const pod of pods) {
    const unschedulable = pod.status?.conditions?.find((c) =>
      c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable"
    );
    if (unschedulable && /persistentvolumeclaim/i.test(unschedulable.message ?? "")) {
      await failOnUnboundClaim(client, namespace, name, pod);
    }
    for (const c of pod.status?.containerStatuses ?? []) {
      const waiting = c.state?.waiting;
      if (!waiting?.reason) continue;
      if (PULL_FAILURES.includes(waiting.reason)) {
        const events = await podEvents(client, namespace, pod.metadata.name);
        throw new Error(describePullFailure(name, c.image ?? "", waiting.reason, events));
      }
      if (CONFIG_FAILURES.includes(waiting.reason)) {
        throw new Error(
          `Cannot roll out "${name}": pod "${pod.metadata.name}" cannot start: ${
            waiting.message ?? waiting.reason
          }; ` +
            "create the missing Secret or ConfigMap (deployment.secrets names existing Secrets)",
        );
      }
      if (waiting.reason === "CrashLoopBackOff") {
        throw new Error(
          `Cannot roll out "${name}": the engine keeps crashing in pod "${pod.metadata.name}"; ` +
            `see \`pipedreamer logs ${name}\``,
        );
      }
    }
  }
}

/**
 * A claim without a StorageClass in a cluster without a default one never binds: say so at once
 * (a claim that is only slow to provision is waited for).
 */
async function failOnUnboundClaim(
  client: KubeClient,
  namespace: string,
  name: string,
  pod: Pod,
): Promise<void> {
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const claim = await client.get<
      KubeObject & { spec?: { storageClassName?: string }; status?: { phase?: string } }
    >(resourcePath("v1", "PersistentVolumeClaim", namespace, claimName));
    if (!claim || claim.status?.phase === "Bound" || claim.spec?.storageClassName) continue;
    let classes: KubeObject[];
    try {
      classes = await client.list<KubeObject>(resourcePath("storage.k8s.io/v1", "StorageClass"));
    } catch {
      continue; // Not allowed to look: keep waiting.
    }
    const hasDefault = classes.some((c) =>
      c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true"
    );
    if (!hasDefault) {
      throw new Error(
        `Cannot roll out "${name}": PersistentVolumeClaim "${claimName}" (the run store) stays Pending: ` +
          "the cluster has no default StorageClass; set deployment.storage.storageClass " +
          `(${
            classes.map((c) => c.metadata.name).join(", ") || "none exists"
          }), mark one as default, ` +
          "or use PostgreSQL (deployment.store)",
      );
    }
  }
}

async function podEvents(client: KubeClient, namespace: string, pod: string): Promise<KubeEvent[]> {
  const events = await client.list<KubeEvent>(resourcePath("v1", "Event", namespace), {
    fieldSelector: `involvedObject.name=${pod}`,
  });
  return events.filter((e) => e.involvedObject?.name === pod);
}

/** Missing image and missing registry credentials need different fixes: tell them apart. */
export function describePullFailure(
  name: string,
  image: string,
  reason: string,
  events: KubeEvent[],
): string {
  const detail =
    events.filter((e) =>
      e.type === "Warning" && e.reason === "Failed" && e.message?.includes("pull")
    )
      .map((e) => e.message!).pop() ?? reason;
  if (
    /\b(401|403)\b|unauthori[sz]ed|authentication required|authorization failed|no basic auth credentials/i
      .test(detail)
  ) {
    return `Cannot roll out "${name}": the cluster has no credentials to pull image "${image}" (${reason}: ${detail}); ` +
      "add an image pull secret (deployment.imagePullSecrets) or make the repository public";
  }
  if (/not found|manifest unknown|does not exist|NotFound/i.test(detail)) {
    return `Cannot roll out "${name}": image "${image}" does not exist in its registry (${reason}: ${detail}); ` +
      "push it with `pipedreamer build -r <registry> --push`, or fix --image / --cluster-registry";
  }
  return `Cannot roll out "${name}": the cluster cannot pull image "${image}" (${reason}: ${detail})`;
}
