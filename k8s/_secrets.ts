/**
 * Secrets of a workflow: `<name>-secrets` from the local .secrets.yaml or .secrets/ (one key per
 * service; nested maps serialized as JSON, which the engine reads back from /app/secrets), and
 * `<name>-token`, the engine API token. Both are mounted as read-only files, never as
 * environment variables.
 *
 * @module
 */

import { encodeBase64 } from "./_base64.ts";
import { Component } from "./_labels.ts";
import type { KubeObject, ManifestContext } from "./_manifest_context.ts";

/** Key of the API token inside `<name>-token`. */
export const TOKEN_KEY = "token";

/**
 * `<name>-secrets`, or undefined when the workflow has no local secrets (so deploy never
 * requires a Secret the workflow does not use).
 *
 * @throws {RangeError} when a service name cannot be a Secret key.
 */
export function secretsSecret(
  ctx: ManifestContext,
  secrets: Record<string, unknown>,
): KubeObject | undefined {
  const entries = Object.entries(secrets).filter(([, v]) => v !== undefined && v !== null);
  if (entries.length === 0) return undefined;
  const data: Record<string, string> = {};
  for (const [service, value] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^[-._a-zA-Z0-9]+$/.test(service)) {
      throw new RangeError(
        `Cannot deploy secret "${service}": Secret keys allow only letters, digits, "-", "_" and "."; rename the service`,
      );
    }
    data[service] = encodeBase64(typeof value === "string" ? value : JSON.stringify(value));
  }
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
