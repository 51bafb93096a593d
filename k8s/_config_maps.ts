/**
 * The two ConfigMaps of a workflow: the immutable, versioned code ConfigMap
 * `<name>-code-<version>` (workflow.yaml and the nodes, mounted at /app/workflow; old versions
 * stay for rollback) and the runtime config `<name>-config` (mounted at /app/config; its
 * `config.yaml` overrides workflow `config:` without a rebuild).
 *
 * @module
 */

import { encodeBase64 } from "./_base64.ts";
import {
  ANNOTATION_CODE_HASH,
  ANNOTATION_FILES,
  ANNOTATION_IMAGE,
  ANNOTATION_VERSION,
  Component,
} from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";
import type { WorkflowFile } from "./workflow_files.ts";

/** Key of the runtime config inside `<name>-config`. */
export const RUNTIME_CONFIG_KEY = "config.yaml";

/** ConfigMaps hold at most 1 MiB; keep headroom for metadata. */
const MAX_CODE_BYTES = 900 * 1024;

/** One bundle file as stored in the code ConfigMap: its key and its path under /app/workflow. */
export interface CodeEntry {
  key: string;
  path: string;
  /** File mode in the volume, when not the default 0o444. */
  mode?: number;
}

/**
 * Maps bundle paths to ConfigMap keys (`nodes/a.ts` → `nodes__a.ts`).
 *
 * @throws {RangeError} when a path cannot be a key or two paths collide.
 */
export function codeEntries(files: WorkflowFile[]): CodeEntry[] {
  const seen = new Map<string, string>();
  return files.map((file) => {
    const key = file.path.replaceAll("/", "__");
    if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
      throw new RangeError(
        `Cannot bundle "${file.path}": ConfigMap keys allow only letters, digits, "-", "_", "." and "/"; rename the file`,
      );
    }
    const other = seen.get(key);
    if (other !== undefined) {
      throw new RangeError(
        `Cannot bundle "${file.path}": it collides with "${other}"; rename one of them`,
      );
    }
    seen.set(key, file.path);
    return {
      key,
      path: file.path,
      ...(file.mode && file.mode !== 0o444 ? { mode: file.mode } : {}),
    };
  });
}

/**
 * The immutable code ConfigMap of this version.
 *
 * @throws {RangeError} when the bundle exceeds what a ConfigMap holds.
 */
export function codeConfigMap(ctx: ManifestContext, files: WorkflowFile[]): KubeObject {
  const entries = codeEntries(files);
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  let size = 0;
  files.forEach((file, i) => {
    const key = entries[i]!.key;
    if (typeof file.content === "string") {
      data[key] = file.content;
      size += new TextEncoder().encode(file.content).length;
    } else {
      binaryData[key] = encodeBase64(file.content);
      size += file.content.length;
    }
  });
  if (size > MAX_CODE_BYTES) {
    throw new RangeError(
      `Cannot deploy "${ctx.workflow.name}": its code is ${Math.ceil(size / 1024)} KiB, ` +
        `more than a ConfigMap holds (${
          MAX_CODE_BYTES / 1024
        } KiB); move large data out of the workflow directory`,
    );
  }
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: ctx.names.code(ctx.workflow.version),
      namespace: ctx.namespace,
      labels: ctx.labels(Component.Code),
      annotations: {
        [ANNOTATION_VERSION]: ctx.workflow.version,
        [ANNOTATION_CODE_HASH]: ctx.workflow.codeHash,
        [ANNOTATION_IMAGE]: ctx.image,
        [ANNOTATION_FILES]: JSON.stringify(entries),
      },
    },
    immutable: true,
    ...(Object.keys(data).length > 0 ? { data } : {}),
    ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
  };
}

/**
 * The runtime config ConfigMap. Without `text` it carries no data, so a deploy never erases
 * what an operator put there (see apply: data is applied under its own field manager).
 */
export function runtimeConfigMap(ctx: ManifestContext, text: string | undefined): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: ctx.names.config,
      namespace: ctx.namespace,
      labels: ctx.labels(Component.Config),
    },
    ...(text !== undefined ? { data: { [RUNTIME_CONFIG_KEY]: text } } : {}),
  };
}
