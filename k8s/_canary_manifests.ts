/**
 * The objects of a canary release, derived from the manifests the one generator makes for the
 * new version (so the canary runs exactly what a deploy of that version would run):
 *
 * - the version's immutable code ConfigMap (kept afterwards, like every version's);
 * - `<name>-canary-secrets` (the new version's local secrets), `<name>-canary-data` (its own
 *   SQLite volume; with `deployment.store` both engines share the PostgreSQL store);
 * - Deployment `<name>-canary`: one replica, pods labelled `component: canary` (so the live
 *   Service never selects them), `serve --queue external` (only the live engine consumes
 *   queues), no canary switch of its own;
 * - Service `<name>-canary` (ClusterIP, the only way in: the live engine forwards to it) and
 *   NetworkPolicy `<name>-canary` (the new version's egress);
 * - ConfigMap `<name>-canary-release`: the new version's manifests in live form (no Secret
 *   values), what `promote` applies;
 * - ConfigMap `<name>-canary`, last: the switch `{ url, percent, version }` the live engine
 *   mounts at /app/canary and re-reads, so the split starts without a rollout of the live pod.
 *
 * Cron Jobs, RBAC, the token and the runtime config stay the live version's.
 *
 * @module
 */

import { CANARY_VOLUME, ENGINE_CONTAINER } from "./_deployment.ts";
import {
  ANNOTATION_VERSION,
  canarySelector,
  Component,
  LABEL_COMPONENT,
  objectNames,
} from "./_labels.ts";
import { type KubeObject, Paths } from "./_manifest_context.ts";

/** Key of the switch ConfigMap's file (`serve --canary-file /app/canary/canary.json`). */
export const CANARY_KEY = "canary.json";
/** Key of the release ConfigMap's manifests. */
export const RELEASE_KEY = "objects.json";

interface Container {
  name: string;
  args?: string[];
  volumeMounts?: { name: string }[];
}

interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  projected?: { sources: { secret?: { name: string } }[] };
}

interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: { containers: Container[]; volumes: Volume[] };
  };
}

function component(o: KubeObject): string | undefined {
  return o.metadata.labels?.[LABEL_COMPONENT];
}

function asCanary(o: KubeObject, name: string): KubeObject {
  const copy = structuredClone(o);
  copy.metadata.name = name;
  copy.metadata.labels = { ...copy.metadata.labels, [LABEL_COMPONENT]: Component.Canary };
  return copy;
}

/** The canary's engine URL inside the cluster (its own Service). */
export function canaryUrl(name: string, namespace: string, port: number): string {
  return `http://${objectNames(name, namespace).canary}.${namespace}.svc:${port}`;
}

/** The switch ConfigMap: `{}` (no canary) or the canary the live engine forwards to. */
export function canarySwitch(
  template: KubeObject,
  value: { url: string; percent: number; version: string } | Record<string, never>,
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: template.metadata.name,
      namespace: template.metadata.namespace,
      labels: template.metadata.labels,
    },
    data: { [CANARY_KEY]: JSON.stringify(value) },
  };
}

/**
 * The canary release of `objects` (the new version's generated manifests) at `percent`.
 *
 * @throws {RangeError} when percent is not an integer from 1 to 99.
 */
export function canaryManifests(objects: KubeObject[], percent: number): KubeObject[] {
  if (!Number.isInteger(percent) || percent < 1 || percent > 99) {
    throw new RangeError(`Cannot start a canary: the percentage must be 1 to 99, got ${percent}`);
  }
  const deployment = objects.find((o) => o.kind === "Deployment")!;
  const { name: workflow, namespace } = deployment.metadata;
  const names = objectNames(workflow, namespace!);
  const version = deployment.metadata.annotations![ANNOTATION_VERSION]!;
  const service = objects.find((o) => o.kind === "Service" && o.metadata.name === names.service)!;
  const port = (service.spec as { ports: { port: number }[] }).ports[0]!.port;
  const out: KubeObject[] = [];
  const code = objects.find((o) => o.kind === "ConfigMap" && component(o) === Component.Code)!;
  out.push(code);
  const secrets = objects.find((o) => o.kind === "Secret" && o.metadata.name === names.secrets);
  if (secrets) out.push(asCanary(secrets, names.canarySecrets));
  const claim = objects.find((o) => o.kind === "PersistentVolumeClaim");
  if (claim) out.push(asCanary(claim, names.canaryData));
  const canaryService = asCanary(service, names.canary);
  (canaryService.spec as { selector: Record<string, string> }).selector = canarySelector(workflow);
  out.push(canaryService);
  out.push(canaryDeployment(deployment, names));
  const policy = objects.find((o) =>
    o.kind === "NetworkPolicy" && o.metadata.name === names.networkPolicy
  );
  if (policy) {
    const canaryPolicy = asCanary(policy, names.canary);
    (canaryPolicy.spec as { podSelector: unknown }).podSelector = {
      matchLabels: canarySelector(workflow),
    };
    out.push(canaryPolicy);
  }
  // What promote applies: everything a deploy of this version applies, but Secret values.
  const release = objects.filter((o) => o.kind !== "Secret" && o.kind !== "Namespace");
  out.push({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: names.canaryRelease,
      namespace,
      labels: { ...code.metadata.labels, [LABEL_COMPONENT]: Component.Canary },
      annotations: { [ANNOTATION_VERSION]: version },
    },
    data: { [RELEASE_KEY]: JSON.stringify(release) },
  });
  out.push(
    canarySwitch(asCanary(code, names.canary), {
      url: canaryUrl(workflow, namespace!, port),
      percent,
      version,
    }),
  );
  return out;
}

/** The new version's Deployment as the canary: one replica, its own pods, volume and role. */
function canaryDeployment(
  deployment: KubeObject,
  names: ReturnType<typeof objectNames>,
): KubeObject {
  const canary = asCanary(deployment, names.canary);
  const spec = canary.spec as DeploymentSpec;
  spec.replicas = 1;
  spec.selector = { matchLabels: canarySelector(deployment.metadata.name) };
  spec.template.metadata.labels = {
    ...spec.template.metadata.labels,
    [LABEL_COMPONENT]: Component.Canary,
  };
  const pod = spec.template.spec;
  pod.volumes = pod.volumes.filter((v) => v.name !== CANARY_VOLUME).map((v) => {
    if (v.persistentVolumeClaim) {
      return { ...v, persistentVolumeClaim: { claimName: names.canaryData } };
    }
    if (!v.projected) return v;
    return {
      ...v,
      projected: {
        ...v.projected,
        sources: v.projected.sources.map((s) =>
          s.secret?.name === names.secrets
            ? { secret: { ...s.secret, name: names.canarySecrets } }
            : s
        ),
      },
    };
  });
  const container = pod.containers.find((c) => c.name === ENGINE_CONTAINER)!;
  container.volumeMounts = container.volumeMounts?.filter((m) => m.name !== CANARY_VOLUME);
  const args = container.args ?? [];
  const at = args.indexOf("--canary-file");
  if (at >= 0 && args[at + 1] === Paths.canaryFile) args.splice(at, 2);
  // Only the live engine consumes queues (and serves /hooks/); it forwards the canary's share.
  container.args = [...args, "--queue", "external"];
  return canary;
}
