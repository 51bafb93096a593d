/**
 * `versions <name>`: every deployed version of a workflow (one immutable code ConfigMap each),
 * which one is live, and `--diff a b` between two of them.
 *
 * @module
 */

import { decodeBase64 } from "./_base64.ts";
import type { CodeEntry } from "./_config_maps.ts";
import { CODE_VOLUME } from "./_deployment.ts";
import {
  ANNOTATION_CODE_HASH,
  ANNOTATION_FILES,
  ANNOTATION_IMAGE,
  ANNOTATION_VERSION,
  Component,
  instanceSelector,
  LABEL_VERSION,
  objectNames,
} from "./_labels.ts";
import type { KubeObject } from "./_manifest_context.ts";
import { resourcePath } from "./_resources.ts";
import { unifiedDiff } from "./_text_diff.ts";
import type { KubeClient } from "./kube_client.ts";

/** A code ConfigMap as read back. */
export interface CodeConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** One deployed version. */
export interface VersionInfo {
  version: string;
  codeHash: string;
  image: string;
  createdAt?: string;
  /** The version the Deployment runs now. */
  current: boolean;
  configMap: string;
}

/**
 * Every version of `name` still in the cluster, oldest first.
 *
 * @throws {Error} "Cannot list versions …" when there is none.
 * @example
 * ```ts
 * const versions = await listVersions(client, "hello", "default");
 * ```
 */
export async function listVersions(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<VersionInfo[]> {
  const maps = await client.list<CodeConfigMap>(resourcePath("v1", "ConfigMap", namespace), {
    labelSelector: instanceSelector(name, { component: Component.Code }),
  });
  if (maps.length === 0) {
    throw new Error(
      `Cannot list versions of "${name}": none is deployed in namespace "${namespace}"`,
    );
  }
  const current = await currentCodeConfigMap(client, name, namespace);
  return maps.map((m) => ({
    version: versionOf(m),
    codeHash: m.metadata.annotations?.[ANNOTATION_CODE_HASH] ?? "",
    image: m.metadata.annotations?.[ANNOTATION_IMAGE] ?? "",
    createdAt: m.metadata.creationTimestamp as string | undefined,
    current: m.metadata.name === current,
    configMap: m.metadata.name,
  })).sort((a, b) =>
    (a.createdAt ?? "").localeCompare(b.createdAt ?? "") || a.version.localeCompare(b.version)
  );
}

/** The name of the code ConfigMap the Deployment mounts now, if deployed. */
export async function currentCodeConfigMap(
  client: KubeClient,
  name: string,
  namespace: string,
): Promise<string | undefined> {
  const dep = await client.get<
    KubeObject & {
      spec?: {
        template?: { spec?: { volumes?: { name: string; configMap?: { name?: string } }[] } };
      };
    }
  >(
    resourcePath("apps/v1", "Deployment", namespace, name),
  );
  return dep?.spec?.template?.spec?.volumes?.find((v) => v.name === CODE_VOLUME)?.configMap?.name;
}

/**
 * The code ConfigMap of one version.
 *
 * @throws {Error} "Cannot <action> …" naming the versions that do exist.
 */
export async function readVersion(
  client: KubeClient,
  name: string,
  namespace: string,
  version: string,
  action: string,
): Promise<CodeConfigMap> {
  const cmName = objectNames(name, namespace).code(version);
  const cm = await client.get<CodeConfigMap>(resourcePath("v1", "ConfigMap", namespace, cmName));
  if (cm) return cm;
  const known = await client.list<CodeConfigMap>(resourcePath("v1", "ConfigMap", namespace), {
    labelSelector: instanceSelector(name, { component: Component.Code }),
  });
  const list = known.map((m) => `"${versionOf(m)}"`).join(", ") || "none";
  throw new Error(
    `Cannot ${action}: version "${version}" of "${name}" is not in namespace "${namespace}" ` +
      `(its ConfigMap "${cmName}" is gone or was never deployed); deployed versions: ${list}`,
  );
}

/** The files of a code ConfigMap, path → text. */
export function codeFiles(cm: CodeConfigMap): Map<string, string> {
  const entries = codeEntriesOf(cm);
  const files = new Map<string, string>();
  for (const { key, path } of entries) {
    const text = cm.data?.[key];
    const binary = cm.binaryData?.[key];
    files.set(path, text ?? (binary ? `(binary, ${decodeBase64(binary).length} bytes)` : ""));
  }
  return files;
}

/** The key → path entries recorded on a code ConfigMap. */
export function codeEntriesOf(cm: CodeConfigMap): CodeEntry[] {
  const raw = cm.metadata.annotations?.[ANNOTATION_FILES];
  if (raw) return JSON.parse(raw) as CodeEntry[];
  return [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})].sort()
    .map((key) => ({ key, path: key.replaceAll("__", "/") }));
}

/** One file's change between two versions. */
export interface FileDiff {
  path: string;
  change: "added" | "removed" | "changed";
  diff: string;
}

/**
 * The file-by-file diff between versions `a` and `b`.
 *
 * @throws {Error} when either version is gone.
 */
export async function diffVersions(
  client: KubeClient,
  name: string,
  namespace: string,
  a: string,
  b: string,
): Promise<FileDiff[]> {
  const action = `diff "${name}" ${a}..${b}`;
  const fa = codeFiles(await readVersion(client, name, namespace, a, action));
  const fb = codeFiles(await readVersion(client, name, namespace, b, action));
  const paths = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  const out: FileDiff[] = [];
  for (const path of paths) {
    const before = fa.get(path);
    const after = fb.get(path);
    if (before === after) continue;
    out.push({
      path,
      change: before === undefined ? "added" : after === undefined ? "removed" : "changed",
      diff: unifiedDiff(before ?? "", after ?? "", [
        before === undefined ? "/dev/null" : `${a}/${path}`,
        after === undefined ? "/dev/null" : `${b}/${path}`,
      ]),
    });
  }
  return out;
}

function versionOf(m: CodeConfigMap): string {
  return m.metadata.annotations?.[ANNOTATION_VERSION] ?? m.metadata.labels?.[LABEL_VERSION] ?? "";
}
