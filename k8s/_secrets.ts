/**
 * Secrets of a workflow: `<name>-secrets` from the local .secrets.yaml or .secrets/ (one key per
 * service; nested maps serialized as JSON, which the engine reads back from /app/secrets; each
 * sub-workflow's own services under /app/secrets/.workflows/<its bundle directory>/), and
 * `<name>-token`, the engine API token. Both are mounted as read-only files, never as
 * environment variables.
 *
 * @module
 */

import { SUB_WORKFLOW_SECRETS_DIR } from "../engine/mod.ts";
import { encodeBase64 } from "./_base64.ts";
import { Component } from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";

/** Key of the API token inside `<name>-token`. */
export const TOKEN_KEY = "token";

/** One key of `<name>-secrets` and where the engine reads it, relative to /app/secrets. */
export interface LocalSecretEntry {
  key: string;
  path: string;
  /** The service's value: text, or a map serialized as JSON. */
  value: string;
}

/**
 * The keys of `<name>-secrets`: one per service of the workflow (at `/app/secrets/<service>`),
 * and one per service of each sub-workflow, at `/app/secrets/.workflows/<its bundle
 * directory>/<service>` (where the engine loads a sub-workflow's own secrets from).
 *
 * @param subWorkflowSecrets By bundle directory (`_workflows/<key>`).
 * @throws {RangeError} when a service name cannot be a Secret key, or two keys collide.
 */
export function localSecretEntries(
  secrets: Record<string, unknown>,
  subWorkflowSecrets: Record<string, Record<string, unknown>> = {},
): LocalSecretEntry[] {
  const out: LocalSecretEntry[] = [];
  const add = (prefix: string, path: string, of: Record<string, unknown>) => {
    const entries = Object.entries(of).filter(([, v]) => v !== undefined && v !== null);
    for (const [service, value] of entries.sort(([a], [b]) => a.localeCompare(b))) {
      if (!/^[-._a-zA-Z0-9]+$/.test(service)) {
        throw new RangeError(
          `Cannot deploy secret "${service}": Secret keys allow only letters, digits, "-", "_" and "."; rename the service`,
        );
      }
      const key = `${prefix}${service}`;
      if (out.some((e) => e.key === key)) {
        throw new RangeError(
          `Cannot deploy secret "${service}": its Secret key "${key}" is taken; rename the service`,
        );
      }
      out.push({
        key,
        path: `${path}${service}`,
        value: typeof value === "string" ? value : JSON.stringify(value),
      });
    }
  };
  add("", "", secrets);
  for (const dir of Object.keys(subWorkflowSecrets).sort()) {
    add(
      `${dir.replaceAll("/", "__")}__`,
      `${SUB_WORKFLOW_SECRETS_DIR}/${dir}/`,
      subWorkflowSecrets[dir]!,
    );
  }
  return out;
}

/**
 * `<name>-secrets`, or undefined when the workflow has no local secrets (so deploy never
 * requires a Secret the workflow does not use).
 */
export function secretsSecret(
  ctx: ManifestContext,
  entries: LocalSecretEntry[],
): KubeObject | undefined {
  if (entries.length === 0) return undefined;
  const data: Record<string, string> = {};
  for (const entry of entries) data[entry.key] = encodeBase64(entry.value);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: ctx.names.secrets,
      namespace: ctx.namespace,
      labels: ctx.labels(Component.Secrets),
    },
    type: "Opaque",
    data,
  };
}

/** `<name>-token`: the bearer token `serve` requires and `run`/the cron Jobs send. */
export function tokenSecret(ctx: ManifestContext, token: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: ctx.names.token,
      namespace: ctx.namespace,
      labels: ctx.labels(Component.Token),
    },
    type: "Opaque",
    data: { [TOKEN_KEY]: encodeBase64(token) },
  };
}

/** A new random API token (256 bits, hex). */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
