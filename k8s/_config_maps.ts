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
  ANNOTATION_CODE_SOURCE,
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
export const MAX_CODE_BYTES = 900 * 1024;

/** Bytes of the code as the ConfigMap would hold it. */
export function codeBytes(files: WorkflowFile[]): number {
  return files.reduce(
    (n, f) =>
      n +
      (typeof f.content === "string"
        ? new TextEncoder().encode(f.content).length
        : f.content.length),
    0,
  );
}

/**
 * Code over {@link MAX_CODE_BYTES} does not fit a ConfigMap: `build` bakes it into the image at
 * /app/workflow, and the engine runs it from there.
 */
export function codeInImage(files: WorkflowFile[]): boolean {
  return codeBytes(files) > MAX_CODE_BYTES;
}

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
 * The immutable code ConfigMap of this version. Code over 900 KiB is not in it (it is baked
 * into the image); the ConfigMap then only records the version, image and code hash.
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
  const inImage = size > MAX_CODE_BYTES;
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
        // Code in the image: this ConfigMap only records the version (versions, rollback).
        [ANNOTATION_FILES]: JSON.stringify(inImage ? [] : entries),
        ...(inImage ? { [ANNOTATION_CODE_SOURCE]: "image" } : {}),
      },
    },
    immutable: true,
    ...(!inImage && Object.keys(data).length > 0 ? { data } : {}),
    ...(!inImage && Object.keys(binaryData).length > 0 ? { binaryData } : {}),
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
