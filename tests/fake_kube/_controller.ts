/**
 * A stand-in for the Deployment controller, the scheduler and the kubelet: a Deployment whose
 * generation changed gets a ReplicaSet for its pod template and pods; the pods start (or fail
 * to pull their image, with the kubelet's events); old pods go once the new ones are ready;
 * the Deployment's status follows (observedGeneration, updated/ready/available replicas,
 * conditions).
 *
 * The rollout advances one step each time a client reads the Deployment, so a test sees every
 * intermediate status deterministically, without timers.
 *
 * @module
 */

import { FAKE_RESOURCES, type FakeResource } from "./_resources.ts";
import type { Obj, Store } from "./_store.ts";

const res = (kind: string): FakeResource => FAKE_RESOURCES.find((r) => r.kind === kind)!;
const DEPLOYMENT = res("Deployment");
const REPLICA_SET = res("ReplicaSet");
const POD = res("Pod");
const EVENT = res("Event");
const PVC = res("PersistentVolumeClaim");
const STORAGE_CLASS = res("StorageClass");
/** The annotation that marks the default StorageClass. */
export const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

/** Why an image cannot be pulled. */
export const PullFailure = {
  /** The image or tag does not exist in the registry. */
  NotFound: "not-found",
  /** The registry requires credentials the node does not have. */
  Unauthorized: "unauthorized",
} as const;
/** One of {@link PullFailure}. */
export type PullFailure = typeof PullFailure[keyof typeof PullFailure];

interface ImageRule {
  matches: (image: string) => boolean;
  failure: PullFailure;
}

type Get = (o: unknown, ...path: (string | number)[]) => unknown;
const get: Get = (o, ...path) =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);

/** The simulated controllers of one fake cluster. */
export class Controllers {
  readonly #store: Store;
  readonly #imageRules: ImageRule[] = [];
  #seq = 0;
  /** While true, rollouts do not advance (a cluster without capacity). */
  paused = false;

  constructor(store: Store) {
    this.#store = store;
    // The volume binder (with dynamic provisioning): a claim with a StorageClass, named or the
    // default one, binds at once; without any it stays Pending.
    store.onChange((event) => {
      if (event.resource !== PVC || event.type === "DELETED") return;
      const claim = event.object;
      if (get(claim, "status", "phase") === "Bound") return;
      const named = get(claim, "spec", "storageClassName") as string | undefined;
      const classes = store.list(STORAGE_CLASS, undefined);
      const cls = named !== undefined
        ? classes.find((c) => c.metadata.name === named)
        : classes.find((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true");
      const ns = claim.metadata.namespace!;
      if (!cls) {
        store.setStatus(PVC, ns, claim.metadata.name, { phase: "Pending" });
        return;
      }
      store.setStatus(PVC, ns, claim.metadata.name, {
        phase: "Bound",
        accessModes: get(claim, "spec", "accessModes"),
        capacity: { storage: get(claim, "spec", "resources", "requests", "storage") },
      });
    });
  }

  /** Makes pulls of matching images fail from now on. */
  failImagePull(image: string | RegExp, failure: PullFailure): void {
    this.#imageRules.push({
      matches: (i) => typeof image === "string" ? i === image : image.test(i),
      failure,
    });
  }

  /** Advances the rollout of one Deployment by one step. */
  step(namespace: string, name: string): void {
    if (this.paused) return;
    const dep = this.#store.get(DEPLOYMENT, namespace, name);
    if (!dep) return;
    const generation = dep.metadata.generation ?? 1;
    const desired = Number(get(dep, "spec", "replicas") ?? 1);
    const hash = templateHash(get(dep, "spec", "template"));
    const rsName = `${name}-${hash}`;
    const pods = this.#store.list(POD, namespace).filter((p) =>
      isOwnedBy(p, this.#replicaSets(dep))
    );
    const current = pods.filter((p) => p.metadata.labels?.["pod-template-hash"] === hash);
    const old = pods.filter((p) => p.metadata.labels?.["pod-template-hash"] !== hash);
    const changed = get(dep, "status", "observedGeneration") !== generation ||
      current.length !== desired;
    if (changed && old.length > 0 && get(dep, "spec", "strategy", "type") === "Recreate") {
      // Recreate: every old pod goes before a new one is created.
      for (const rs of this.#replicaSets(dep).filter((r) => r.metadata.name !== rsName)) {
        this.#store.delete(REPLICA_SET, namespace, rs.metadata.name);
      }
    } else if (changed) {
      const rs = this.#ensureReplicaSet(dep, rsName, hash, desired);
      for (let i = current.length; i < desired; i++) this.#createPod(dep, rs, hash);
      for (const extra of current.slice(desired)) {
        this.#store.delete(POD, namespace, extra.metadata.name);
      }
    } else if (current.some((p) => !isReady(p) && !isFailing(p))) {
      for (const pod of current.filter((p) => !isReady(p) && !isFailing(p))) this.#startPod(pod);
    } else if (current.every(isReady) && old.length > 0) {
      for (const rs of this.#replicaSets(dep).filter((r) => r.metadata.name !== rsName)) {
        this.#store.delete(REPLICA_SET, namespace, rs.metadata.name);
      }
    }
    this.#updateStatus(namespace, name, generation, hash);
  }

  #replicaSets(dep: Obj): Obj[] {
    return this.#store.list(REPLICA_SET, dep.metadata.namespace)
      .filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === dep.metadata.uid));
  }

  #ensureReplicaSet(dep: Obj, name: string, hash: string, replicas: number): Obj {
    const ns = dep.metadata.namespace!;
    const existing = this.#store.get(REPLICA_SET, ns, name);
    if (existing) return existing;
    const template = structuredClone(get(dep, "spec", "template")) as Record<string, unknown>;
    const labels = {
      ...(get(template, "metadata", "labels") as Record<string, string>),
      "pod-template-hash": hash,
    };
    return this.#store.create(REPLICA_SET, ns, {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name, namespace: ns, labels, ownerReferences: [ownerRef(dep)] },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { ...template, metadata: { labels } },
      },
    } as Obj, "kube-controller-manager");
  }

  #createPod(dep: Obj, rs: Obj, hash: string): void {
    const ns = dep.metadata.namespace!;
    const suffix = (++this.#seq).toString(36).padStart(5, "x");
    const template = get(dep, "spec", "template") as Record<string, unknown>;
    const pod = this.#store.create(POD, ns, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `${rs.metadata.name}-${suffix}`,
        namespace: ns,
        labels: {
          ...(get(template, "metadata", "labels") as Record<string, string>),
          "pod-template-hash": hash,
        },
        ownerReferences: [ownerRef(rs)],
      },
      spec: structuredClone(template.spec),
    } as Obj, "kube-controller-manager");
    this.#store.setStatus(POD, ns, pod.metadata.name, {
      phase: "Pending",
      conditions: [{ type: "Ready", status: "False" }],
    });
    this.#event(
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${ns}/${pod.metadata.name} to fake-node-1`,
      "default-scheduler",
    );
  }

  #startPod(pod: Obj): void {
    const ns = pod.metadata.namespace!;
    const unbound = ((get(pod, "spec", "volumes") ?? []) as {
      persistentVolumeClaim?: { claimName: string };
    }[])
      .map((v) => v.persistentVolumeClaim?.claimName)
      .filter((claim): claim is string => claim !== undefined)
      .filter((claim) => get(this.#store.get(PVC, ns, claim), "status", "phase") !== "Bound");
    if (unbound.length > 0) {
      const missing = unbound.some((claim) => !this.#store.get(PVC, ns, claim));
      const message = missing
        ? `0/1 nodes are available: persistentvolumeclaim "${unbound[0]}" not found.`
        : "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. " +
          "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
      this.#event(pod, "Warning", "FailedScheduling", message, "default-scheduler");
      this.#store.setStatus(POD, ns, pod.metadata.name, {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }],
      });
      return;
    }
    const containers = (get(pod, "spec", "containers") ?? []) as { name: string; image: string }[];
    const failing = containers.map((c) => ({
      c,
      rule: this.#imageRules.find((r) => r.matches(c.image)),
    }))
      .find((x) => x.rule);
    if (failing) {
      const { c, rule } = failing;
      const detail = rule!.failure === PullFailure.NotFound
        ? `rpc error: code = NotFound desc = failed to pull and unpack image "${c.image}": failed to resolve reference "${c.image}": ${c.image}: not found`
        : `rpc error: code = Unknown desc = failed to pull and unpack image "${c.image}": failed to resolve reference "${c.image}": pull access denied, repository does not exist or may require authorization: authorization failed: 401 Unauthorized`;
      this.#event(pod, "Normal", "Pulling", `Pulling image "${c.image}"`, "kubelet");
      this.#event(
        pod,
        "Warning",
        "Failed",
        `Failed to pull image "${c.image}": ${detail}`,
        "kubelet",
      );
      this.#event(pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet");
      this.#event(pod, "Warning", "BackOff", `Back-off pulling image "${c.image}"`, "kubelet");
      this.#store.setStatus(POD, ns, pod.metadata.name, {
        phase: "Pending",
        conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady" }],
        containerStatuses: containers.map((x) => ({
          name: x.name,
          image: x.image,
          ready: false,
          restartCount: 0,
          state: x === c
            ? {
              waiting: {
                reason: "ImagePullBackOff",
                message: `Back-off pulling image "${c.image}"`,
              },
            }
            : { waiting: { reason: "PodInitializing" } },
        })),
      });
      return;
    }
    const now = this.#store.now().toISOString().replace(/\.\d+Z$/, "Z");
    for (const c of containers) {
      this.#event(pod, "Normal", "Pulled", `Successfully pulled image "${c.image}"`, "kubelet");
      this.#event(pod, "Normal", "Started", `Started container ${c.name}`, "kubelet");
    }
    this.#store.setStatus(POD, ns, pod.metadata.name, {
      phase: "Running",
      podIP: `10.0.0.${this.#seq % 250 + 2}`,
      startTime: now,
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    });
  }

  #updateStatus(ns: string, name: string, generation: number, hash: string): void {
    const dep = this.#store.get(DEPLOYMENT, ns, name)!;
    const pods = this.#store.list(POD, ns).filter((p) => isOwnedBy(p, this.#replicaSets(dep)));
    const updated = pods.filter((p) => p.metadata.labels?.["pod-template-hash"] === hash);
    const ready = pods.filter(isReady).length;
    const desired = Number(get(dep, "spec", "replicas") ?? 1);
    const complete = updated.length === desired && updated.every(isReady) &&
      pods.length === desired;
    this.#store.setStatus(DEPLOYMENT, ns, name, {
      observedGeneration: generation,
      replicas: pods.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(pods.length - ready > 0 ? { unavailableReplicas: pods.length - ready } : {}),
      conditions: [
        {
          type: "Available",
          status: ready >= desired ? "True" : "False",
          reason: ready >= desired ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
        },
        {
          type: "Progressing",
          status: "True",
          reason: complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
        },
      ],
    });
  }

  #event(pod: Obj, type: string, reason: string, message: string, component: string): void {
    const ns = pod.metadata.namespace!;
    const now = this.#store.now().toISOString().replace(/\.\d+Z$/, "Z");
    this.#store.create(EVENT, ns, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${pod.metadata.name}.${(++this.#seq).toString(16)}`, namespace: ns },
      involvedObject: {
        kind: "Pod",
        name: pod.metadata.name,
        namespace: ns,
        uid: pod.metadata.uid,
        apiVersion: "v1",
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component },
    } as Obj, "kubelet");
  }
}

function ownerRef(o: Obj) {
  return {
    apiVersion: String(o.apiVersion),
    kind: String(o.kind),
    name: o.metadata.name,
    uid: o.metadata.uid!,
    controller: true,
  };
}

function isOwnedBy(pod: Obj, owners: Obj[]): boolean {
  return pod.metadata.ownerReferences?.some((r) => owners.some((o) => o.metadata.uid === r.uid)) ??
    false;
}

function isReady(pod: Obj): boolean {
  return ((get(pod, "status", "conditions") ?? []) as { type: string; status: string }[])
    .some((c) => c.type === "Ready" && c.status === "True");
}

function isFailing(pod: Obj): boolean {
  return ((get(pod, "status", "containerStatuses") ?? []) as {
    state?: { waiting?: { reason?: string } };
  }[])
    .some((c) => ["ImagePullBackOff", "ErrImagePull"].includes(c.state?.waiting?.reason ?? ""));
}

/** A stable 10-character hash of a pod template, like `pod-template-hash`. */
function templateHash(template: unknown): string {
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(template)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, "0").slice(0, 10).replace(/[^a-z0-9]/g, "0");
}
