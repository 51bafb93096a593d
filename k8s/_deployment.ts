/**
 * The engine Deployment: `pipedreamer serve` on the code ConfigMap of this version, hardened
 * (gVisor, non-root, read-only root, no capabilities), with probes, resources and read-only
 * mounts for code, runtime config, secrets and the API token.
 *
 * @module
 */

import {
  ANNOTATION_CODE_HASH,
  ANNOTATION_VERSION,
  Component,
  engineSelector,
  HTTP_PORT_NAME,
} from "./_labels.ts";
import {
  type KubeObject,
  type ManifestContext,
  Paths,
  PRE_STOP_SECONDS,
} from "./_manifest_context.ts";
import { containerSecurityContext, hardenedPodSpec } from "./_pod_security.ts";
import { TOKEN_KEY } from "./_secrets.ts";
import type { CodeEntry } from "./_config_maps.ts";
import { natsArgs, natsVolume } from "./_nats_config.ts";

/** Name of the engine container. */
export const ENGINE_CONTAINER = "engine";
/** Name of the volume holding the code ConfigMap (rollback repoints it). */
export const CODE_VOLUME = "workflow";

/** The engine Deployment. */
export function engineDeployment(
  ctx: ManifestContext,
  code: CodeEntry[],
  codeInImage = false,
): KubeObject {
  const labels = ctx.labels(Component.Engine);
  const secretSources = [
    ...(ctx.hasLocalSecrets ? [ctx.names.secrets] : []),
    ...ctx.config.secrets,
  ];
  // Code baked into the image (over 900 KiB) is the image's own /app/workflow: no volume.
  const volumes: Record<string, unknown>[] = codeInImage ? [] : [
    {
      name: CODE_VOLUME,
      configMap: {
        name: ctx.names.code(ctx.workflow.version),
        items: code.map((e) => ({ key: e.key, path: e.path, ...(e.mode ? { mode: e.mode } : {}) })),
        defaultMode: 0o444,
      },
    },
  ];
  volumes.push(
    { name: "config", configMap: { name: ctx.names.config, optional: true, defaultMode: 0o444 } },
    {
      name: "token",
      secret: {
        secretName: ctx.names.token,
        items: [{ key: TOKEN_KEY, path: TOKEN_KEY }],
        defaultMode: 0o440,
      },
    },
    { name: "tmp", emptyDir: { sizeLimit: ctx.config.tmpSizeLimit } },
  );
  const store = ctx.config.store;
  // SQLite lives on the workflow's PersistentVolumeClaim; PostgreSQL's URL comes from a Secret.
  volumes.push(
    store
      ? {
        name: "store",
        secret: {
          secretName: store.secret,
          items: [{ key: store.key, path: "url" }],
          defaultMode: 0o440,
        },
      }
      : { name: "data", persistentVolumeClaim: { claimName: ctx.names.data } },
  );
  const mounts: Record<string, unknown>[] = [
    ...(codeInImage ? [] : [{ name: CODE_VOLUME, mountPath: Paths.workflow, readOnly: true }]),
    { name: "config", mountPath: Paths.config, readOnly: true },
    { name: "token", mountPath: Paths.token, readOnly: true },
    { name: "tmp", mountPath: Paths.tmp },
    store
      ? { name: "store", mountPath: Paths.storeUrl, readOnly: true }
      : { name: "data", mountPath: Paths.store },
  ];
  const nats = natsVolume(ctx.config.nats);
  if (nats) {
    volumes.push(nats.volume);
    mounts.push(nats.mount);
  }
  if (secretSources.length > 0) {
    volumes.push({
      name: "secrets",
      projected: {
        sources: secretSources.map((name) => ({
          secret: name === ctx.names.secrets && ctx.localSecretItems
            ? { name, items: ctx.localSecretItems }
            : { name },
        })),
        defaultMode: 0o440,
      },
    });
    mounts.push({ name: "secrets", mountPath: Paths.secrets, readOnly: true });
  }
  const probe = (path: string, extra: Record<string, unknown>) => ({
    httpGet: { path, port: HTTP_PORT_NAME },
    timeoutSeconds: 2,
    ...extra,
  });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: ctx.names.deployment,
      namespace: ctx.namespace,
      labels,
      annotations: {
        [ANNOTATION_VERSION]: ctx.workflow.version,
        [ANNOTATION_CODE_HASH]: ctx.workflow.codeHash,
      },
    },
    spec: {
      // With an autoscaler the HPA owns replicas: the manifests (and a GitOps sync) carry none.
      ...(ctx.config.autoscale ? {} : { replicas: ctx.config.replicas }),
      revisionHistoryLimit: 10,
      selector: { matchLabels: engineSelector(ctx.workflow.name) },
      // One SQLite file on a ReadWriteOnce volume: the old pod must be gone before the new one
      // opens it. With PostgreSQL, replicas share the store and roll one by one.
      strategy: store
        ? { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }
        : { type: "Recreate" },
      template: {
        metadata: { labels, annotations: { [ANNOTATION_CODE_HASH]: ctx.workflow.codeHash } },
        spec: {
          ...hardenedPodSpec(ctx, { serviceAccount: ctx.serviceAccount }),
          // preStop, then serve's drain grace, then margin for the store to close.
          terminationGracePeriodSeconds: PRE_STOP_SECONDS + ctx.config.graceSeconds + 10,
          containers: [{
            name: ENGINE_CONTAINER,
            image: ctx.image,
            imagePullPolicy: ctx.pullPolicy,
            // The image's entrypoint is the engine (compiled binary or deno + bundle).
            args: [
              "serve",
              Paths.workflow,
              "--host",
              "0.0.0.0",
              "--port",
              String(ctx.config.port),
              "--token-file",
              Paths.tokenFile,
              ...(store
                ? ["--data", Paths.data, "--store-file", `${Paths.storeUrl}/url`]
                : ["--data", Paths.store]),
              "--grace",
              `${ctx.config.graceSeconds}s`,
              // Cron triggers run as CronJobs here: serve must not also fire them in-process.
              "--cron",
              "external",
              // Queue triggers and webhooks: the URL, or a file on the Secret holding it.
              ...natsArgs(ctx.config.nats),
            ],
            env: [
              { name: "HOME", value: Paths.tmp },
              { name: "DENO_DIR", value: `${Paths.tmp}/deno` },
            ],
            ports: [{ name: HTTP_PORT_NAME, containerPort: ctx.config.port, protocol: "TCP" }],
            // Readiness fails while draining (the pod leaves the Service); liveness does not
            // (a draining pod is finishing runs, not stuck).
            readinessProbe: probe("/ready", { periodSeconds: 5, failureThreshold: 2 }),
            livenessProbe: probe("/live", {
              initialDelaySeconds: 10,
              periodSeconds: 10,
              failureThreshold: 3,
            }),
            // The endpoints controller and kube-proxy need a moment to stop routing here.
            lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
            resources: ctx.config.resources,
            securityContext: containerSecurityContext(),
            volumeMounts: mounts,
          }],
          volumes,
        },
      },
    },
  };
}
