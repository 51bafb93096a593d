/**
 * `rollback <name> --version v`: points the engine Deployment back at the code ConfigMap (and
 * the image) of an earlier version. It fails fast when that version's ConfigMap is gone.
 * Schedules, RBAC and secrets stay as last deployed: `deploy` an older checkout to roll
 * those back too.
 *
 * @module
 */

import { pullPolicy } from "./_image.ts";
import { CODE_VOLUME, ENGINE_CONTAINER } from "./_deployment.ts";
import {
  ANNOTATION_CODE_HASH,
  ANNOTATION_CODE_SOURCE,
  ANNOTATION_IMAGE,
  ANNOTATION_VERSION,
  LABEL_VERSION,
  versionSlug,
} from "./_labels.ts";
import { type KubeObject, Paths } from "./_manifest_context.ts";
import { resourcePath } from "./_resources.ts";
import { type RolloutOptions, waitForRollout } from "./apply.ts";
import type { KubeClient } from "./kube_client.ts";
import { codeEntriesOf, readVersion } from "./versions.ts";

/** Field manager of rollback's patch (deploy's apply takes the fields back with force). */
export const ROLLBACK_FIELD_MANAGER = "pipedreamer-rollback";

/** Options of {@link rollbackWorkflow}. */
export interface RollbackOptions {
  /** Wait for the rollout. @default true */
  wait?: boolean;
  rollout?: RolloutOptions;
}

/** What a rollback did. */
export interface RollbackResult {
  context: string;
  namespace: string;
  name: string;
  from: string;
  to: string;
  image: string;
}

/**
 * Rolls a deployed workflow back (or forward) to `version`.
 *
 * @throws {Error} "Cannot roll back …" when the version's ConfigMap or the Deployment is gone.
 * @example
 * ```ts
 * await rollbackWorkflow(client, "hello", "default", "1.0.0");
 * ```
 */
export async function rollbackWorkflow(
  client: KubeClient,
  name: string,
  namespace: string,
  version: string,
  options: RollbackOptions = {},
): Promise<RollbackResult> {
  const action = `roll back "${name}" to ${version}`;
  const cm = await readVersion(client, name, namespace, version, action);
  const path = resourcePath("apps/v1", "Deployment", namespace, name);
  const dep = await client.get<KubeObject>(path);
  if (!dep) {
    throw new Error(
      `Cannot ${action}: it is not deployed in namespace "${namespace}"; deploy it instead`,
    );
  }
  const from = dep.metadata.annotations?.[ANNOTATION_VERSION] ??
    dep.metadata.labels?.[LABEL_VERSION] ?? "";
  const image = cm.metadata.annotations?.[ANNOTATION_IMAGE];
  if (!image) {
    throw new Error(`Cannot ${action}: ConfigMap "${cm.metadata.name}" does not record its image`);
  }
  const exact = cm.metadata.annotations?.[ANNOTATION_VERSION] ?? version;
  const codeHash = cm.metadata.annotations?.[ANNOTATION_CODE_HASH] ?? "";
  const labels = { [LABEL_VERSION]: versionSlug(exact) };
  const items = codeEntriesOf(cm).map((e) => ({
    key: e.key,
    path: e.path,
    ...(e.mode ? { mode: e.mode } : {}),
  }));
  // Code baked into the image: no code volume, the image's /app/workflow. Otherwise the
  // version's ConfigMap, mounted there (added back when the current version had none).
  const inImage = cm.metadata.annotations?.[ANNOTATION_CODE_SOURCE] === "image";
  const mount = inImage
    ? { mountPath: Paths.workflow, $patch: "delete" }
    : { name: CODE_VOLUME, mountPath: Paths.workflow, readOnly: true };
  const volume = inImage
    ? { name: CODE_VOLUME, $patch: "delete" }
    : { name: CODE_VOLUME, configMap: { name: cm.metadata.name, items, defaultMode: 0o444 } };
  const patch = {
    metadata: {
      labels,
      annotations: { [ANNOTATION_VERSION]: exact, [ANNOTATION_CODE_HASH]: codeHash },
    },
    spec: {
      template: {
        metadata: { labels, annotations: { [ANNOTATION_CODE_HASH]: codeHash } },
        spec: {
          containers: [{
            name: ENGINE_CONTAINER,
            image,
            imagePullPolicy: pullPolicy(image),
            volumeMounts: [mount],
          }],
          volumes: [volume],
        },
      },
    },
  };
  await client.json("PATCH", path, {
    body: patch,
    contentType: "application/strategic-merge-patch+json",
    query: { fieldManager: ROLLBACK_FIELD_MANAGER },
  });
  if (options.wait ?? true) await waitForRollout(client, namespace, name, options.rollout);
  return { context: client.context, namespace, name, from, to: exact, image };
}
