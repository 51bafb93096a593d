/**
 * `status <name>` and `list`: what is deployed, which version, how many replicas are ready,
 * and, when something is wrong (or with `--detail`), the pods and their recent events.
 *
 * @module
 */

import {
  ANNOTATION_VERSION,
  ENGINE_SELECTOR,
  engineSelector,
  LABEL_INSTANCE,
  LABEL_VERSION,
  selectorString,
} from "./_labels.ts";
import type { KubeObject } from "./_manifest_context.ts";
import { resourcePath } from "./_resources.ts";
import type { KubeClient } from "./kube_client.ts";

interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    template?: {
      spec?: {
        containers?: { image?: string }[];
        volumes?: { name: string; configMap?: { name: string } }[];
      };
    };
  };
  status?: {
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

interface Pod extends KubeObject {
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string } };
    }[];
  };
}

interface KubeEvent extends KubeObject {
  involvedObject?: { kind?: string; name?: string };
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
}

/** One pod of a workflow. */
export interface PodSummary {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  /** Why a container is waiting (e.g. ImagePullBackOff). */
  waiting?: string;
}

/** One event about a workflow's pods. */
export interface EventSummary {
  type: string;
  reason: string;
  object: string;
  message: string;
  time?: string;
}

/** `status` of one deployed workflow. */
export interface WorkflowStatus {
  context: string;
  namespace: string;
  name: string;
  version: string;
  image: string;
  ready: boolean;
  replicas: { desired: number; ready: number; updated: number; available: number };
  createdAt?: string;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  pods?: PodSummary[];
  events?: EventSummary[];
}

/** Options of {@link workflowStatus}. */
export interface StatusOptions {
  /** Include pods and events even when everything is ready. @default false */
  detail?: boolean;
  /** Most recent events to include. @default 10 */
  events?: number;
}

/**
 * The status of a deployed workflow.
 *
 * @throws {Error} "Cannot show status …" when the workflow is not deployed there.
 * @example
 * ```ts
 * const status = await workflowStatus(client, "hello", "default", { detail: true });
 * ```
 */
export async function workflowStatus(
  client: KubeClient,
  name: string,
  namespace: string,
  options: StatusOptions = {},
): Promise<WorkflowStatus> {
  const dep = await client.get<Deployment>(resourcePath("apps/v1", "Deployment", namespace, name));
  if (!dep || dep.metadata.labels?.["app.kubernetes.io/managed-by"] !== "pipedreamer") {
    throw new Error(
      `Cannot show status of "${name}": it is not deployed in namespace "${namespace}" (context "${client.context}"); see \`pipedreamer list\``,
    );
  }
  const summary = summarize(client.context, dep);
  const status: WorkflowStatus = {
    ...summary,
    conditions: dep.status?.conditions ?? [],
  };
  if (!summary.ready || options.detail) {
    const pods = await client.list<Pod>(resourcePath("v1", "Pod", namespace), {
      labelSelector: selectorString(engineSelector(name)),
    });
    status.pods = pods.map(podSummary);
    const events = await client.list<KubeEvent>(resourcePath("v1", "Event", namespace));
    const names = new Set([name, ...pods.map((p) => p.metadata.name)]);
    status.events = events
      .filter((e) =>
        names.has(e.involvedObject?.name ?? "") ||
        (e.involvedObject?.name ?? "").startsWith(`${name}-`)
      )
      .filter((e) => options.detail || e.type === "Warning")
      .map((e) => ({
        type: e.type ?? "Normal",
        reason: e.reason ?? "",
        object: `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
        message: e.message ?? "",
        time: e.lastTimestamp ?? e.eventTime,
      }))
      .sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""))
      .slice(-(options.events ?? 10));
  }
  return status;
}

/** One row of `list`. */
export interface WorkflowSummary {
  context: string;
  namespace: string;
  name: string;
  version: string;
  image: string;
  ready: boolean;
  replicas: { desired: number; ready: number; updated: number; available: number };
  createdAt?: string;
}

/**
 * Every workflow deployed in `namespace` (every namespace when undefined).
 *
 * @example
 * ```ts
 * for (const w of await listWorkflows(client, "default")) console.log(w.name, w.version);
 * ```
 */
export async function listWorkflows(
  client: KubeClient,
  namespace: string | undefined,
): Promise<WorkflowSummary[]> {
  const deps = await client.list<Deployment>(resourcePath("apps/v1", "Deployment", namespace), {
    labelSelector: ENGINE_SELECTOR,
  });
  return deps.map((d) => summarize(client.context, d))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

function summarize(context: string, dep: Deployment): WorkflowSummary {
  const desired = dep.spec?.replicas ?? 1;
  const s = dep.status ?? {};
  const replicas = {
    desired,
    ready: s.readyReplicas ?? 0,
    updated: s.updatedReplicas ?? 0,
    available: s.availableReplicas ?? 0,
  };
  const generation = Number(dep.metadata.generation ?? 0);
  const observed = Number(
    (dep.status as { observedGeneration?: number } | undefined)?.observedGeneration ?? 0,
  );
  return {
    context,
    namespace: dep.metadata.namespace ?? "",
    name: dep.metadata.labels?.[LABEL_INSTANCE] ?? dep.metadata.name,
    version: versionOf(dep),
    image: dep.spec?.template?.spec?.containers?.[0]?.image ?? "",
    ready: observed >= generation && replicas.available >= desired && replicas.updated >= desired &&
      (s.replicas ?? 0) === desired,
    replicas,
    createdAt: dep.metadata.creationTimestamp as string | undefined,
  };
}

/** The deployed version (exact, from the annotation; the label has `+` replaced). */
function versionOf(dep: Deployment): string {
  return dep.metadata.annotations?.[ANNOTATION_VERSION] ?? dep.metadata.labels?.[LABEL_VERSION] ??
    "";
}

function podSummary(pod: Pod): PodSummary {
  const statuses = pod.status?.containerStatuses ?? [];
  const waiting = statuses.map((c) => c.state?.waiting?.reason).find((r) => r !== undefined);
  return {
    name: pod.metadata.name,
    phase: pod.status?.phase ?? "Unknown",
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
    ...(waiting ? { waiting } : {}),
  };
}
