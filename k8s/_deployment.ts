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
import { type KubeObject, type ManifestContext, Paths } from "./_manifest_context.ts";
import { containerSecurityContext, hardenedPodSpec } from "./_pod_security.ts";
import { TOKEN_KEY } from "./_secrets.ts";
import type { CodeEntry } from "./_config_maps.ts";

/** Name of the engine container. */
export const ENGINE_CONTAINER = "engine";
/** Name of the volume holding the code ConfigMap (rollback repoints it). */
export const CODE_VOLUME = "workflow";

/** The engine Deployment. */
export function engineDeployment(ctx: ManifestContext, code: CodeEntry[]): KubeObject {
  const labels = ctx.labels(Component.Engine);
  const secretSources = [
    ...(ctx.hasLocalSecrets ? [ctx.names.secrets] : []),
    ...ctx.config.secrets,
  ];
  const volumes: Record<string, unknown>[] = [
    {
      name: CODE_VOLUME,
      configMap: {
        name: ctx.names.code(ctx.workflow.version),
        items: code.map((e) => ({ key: e.key, path: e.path, ...(e.mode ? { mode: e.mode } : {}) })),
        defaultMode: 0o444,
      },
    },
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
  ];
  const mounts: Record<string, unknown>[] = [
    { name: CODE_VOLUME, mountPath: Paths.workflow, readOnly: true },
    { name: "config", mountPath: Paths.config, readOnly: true },
    { name: "token", mountPath: Paths.token, readOnly: true },
    { name: "tmp", mountPath: Paths.tmp },
  ];
  if (secretSources.length > 0) {
    volumes.push({
      name: "secrets",
      projected: {
        sources: secretSources.map((name) => ({ secret: { name } })),
        defaultMode: 0o440,
      },
    });
    mounts.push({ name: "secrets", mountPath: Paths.secrets, readOnly: true });
  }
  const probe = (extra: Record<string, unknown>) => ({
    httpGet: { path: "/health", port: HTTP_PORT_NAME },
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
      replicas: ctx.config.replicas,
      revisionHistoryLimit: 10,
      selector: { matchLabels: engineSelector(ctx.workflow.name) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { [ANNOTATION_CODE_HASH]: ctx.workflow.codeHash } },
        spec: {
          ...hardenedPodSpec(ctx, { serviceAccount: ctx.serviceAccount }),
          terminationGracePeriodSeconds: 30,
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
              "--data",
              Paths.data,
              // Cron triggers run as CronJobs here: serve must not also fire them in-process.
              "--cron",
              "external",
            ],
            env: [
              { name: "HOME", value: Paths.tmp },
              { name: "DENO_DIR", value: `${Paths.tmp}/deno` },
            ],
            ports: [{ name: HTTP_PORT_NAME, containerPort: ctx.config.port, protocol: "TCP" }],
            readinessProbe: probe({ periodSeconds: 5, failureThreshold: 3 }),
            livenessProbe: probe({
              initialDelaySeconds: 10,
              periodSeconds: 10,
              failureThreshold: 3,
            }),
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
