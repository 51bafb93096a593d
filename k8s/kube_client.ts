/**
 * A small REST client over `@kubernetes/client-node`: the library loads the kubeconfig
 * (KUBECONFIG, ~/.kube/config or the in-cluster service account), authenticates every request
 * (tokens, client certificates, exec plugins) and sets up TLS; this file adds the few verbs
 * Pipedreamer uses with API-server semantics (server-side apply, label selectors, Status
 * errors, streaming logs, the service proxy).
 *
 * @module
 */

import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
} from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { requestAttributes } from "./_k8s_capability.ts";
import { resourcePath } from "./_resources.ts";
import type { KubeObject } from "./_manifest_context.ts";

export { resourcePath } from "./_resources.ts";

/** Field manager of every server-side apply Pipedreamer makes. */
export const FIELD_MANAGER = "pipedreamer";

/** Where the in-cluster service account token lives. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options of {@link loadKubeClient}. */
export interface KubeClientOptions {
  /** kubeconfig context; undefined means the current context. @default undefined */
  context?: string;
  /** Path of a kubeconfig file; undefined means KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** Per-request timeout in milliseconds (streams excluded). @default 30_000 */
  timeoutMs?: number;
}

/** A Kubernetes API error, carrying the `Status` the server returned. */
export class KubeApiError extends Error {
  override name = "KubeApiError";
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** `Status.reason`, e.g. "NotFound", "Forbidden", "Conflict", "Invalid". */
  readonly reason: string;
  /** A retry may succeed (unreachable server, 429, 5xx). */
  readonly retryable: boolean;

  constructor(message: string, status: number, reason: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.reason = reason;
    this.retryable = status === 0 || status === 429 || status >= 500;
  }
}

/** An HTTP response of the API server (or of a proxied service). */
export interface KubeResponse {
  status: number;
  headers: Record<string, string>;
  text(): Promise<string>;
  stream(): ReadableStream<Uint8Array> | null;
}

/** Options of one request. */
export interface KubeRequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** @default "application/json" */
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** No per-request timeout (log follow). @default false */
  streaming?: boolean;
  /** This request's timeout, replacing the client's; 0 means none. @default the client's */
  timeoutMs?: number;
}

/** Client of one cluster (one kubeconfig context). */
export class KubeClient {
  /** Context name. */
  readonly context: string;
  /** API server URL. */
  readonly server: string;
  /** The context's default namespace, or "default". */
  readonly defaultNamespace: string;
  readonly #config: KubeConfig;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #timeoutMs: number;

  constructor(config: KubeConfig, timeoutMs = 30_000) {
    this.#config = config;
    this.#timeoutMs = timeoutMs;
    const cluster = config.getCurrentCluster();
    if (!cluster) {
      throw new TypeError("Cannot use kubeconfig: its current context names no cluster");
    }
    this.context = config.getCurrentContext();
    this.server = cluster.server.replace(/\/+$/, "");
    this.defaultNamespace = config.getContextObject(this.context)?.namespace ?? "default";
  }

  /** Sends one request; non-2xx statuses are returned, not thrown. */
  async request(
    method: string,
    path: string,
    options: KubeRequestOptions = {},
  ): Promise<KubeResponse> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    ctx.setHeaderParam("Accept", "application/json, */*");
    if (options.body !== undefined) {
      ctx.setHeaderParam("Content-Type", options.contentType ?? "application/json");
      ctx.setBody(typeof options.body === "string" ? options.body : JSON.stringify(options.body));
    }
    for (const [k, v] of Object.entries(options.headers ?? {})) ctx.setHeaderParam(k, v);
    const timeoutMs = options.streaming ? 0 : options.timeoutMs ?? this.#timeoutMs;
    const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length > 0) ctx.setSignal(AbortSignal.any(signals));
    try {
      await this.#config.applySecurityAuthentication(ctx);
      const res = await this.#http.send(ctx).toPromise();
      return {
        status: res.httpStatusCode,
        headers: res.headers,
        text: () => res.body.text(),
        stream: () => res.body.stream(),
      };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout?.aborted) {
        throw new KubeApiError(
          `Cannot ${method} ${url.pathname}: no answer from ${this.server} within ${
            Math.round(timeoutMs / 1000)
          }s`,
          0,
          "Timeout",
          { cause: error },
        );
      }
      const detail = error instanceof Error
        ? (causeMessage(error) ?? error.message)
        : String(error);
      throw new KubeApiError(
        `Cannot reach the Kubernetes API at ${this.server} (context "${this.context}"): ${detail}`,
        0,
        "Unreachable",
        { cause: error },
      );
    }
  }

  /** Sends a request and parses the JSON answer; a non-2xx status throws {@link KubeApiError}. */
  async json<T>(method: string, path: string, options: KubeRequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, options);
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) throw apiError(method, path, res.status, text);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** GET one object; undefined when it does not exist. */
  async get<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.json<T>("GET", path);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Lists a collection path with optional label and field selectors. */
  async list<T = KubeObject>(
    path: string,
    selectors: { labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<T[]> {
    const list = await this.json<{ items?: T[] }>("GET", path, { query: selectors });
    return list.items ?? [];
  }

  /** Server-side apply (`application/apply-patch+yaml`) with a field manager; returns the live object. */
  apply(
    object: KubeObject,
    options: { fieldManager?: string; force?: boolean } = {},
  ): Promise<KubeObject> {
    const { apiVersion, kind, metadata } = object;
    return this.json<KubeObject>(
      "PATCH",
      resourcePath(apiVersion, kind, metadata.namespace, metadata.name),
      {
        body: object,
        contentType: "application/apply-patch+yaml",
        query: {
          fieldManager: options.fieldManager ?? FIELD_MANAGER,
          force: options.force ?? true,
          fieldValidation: "Strict",
        },
      },
    );
  }

  /** Deletes one object; false when it was already gone. */
  async delete(path: string, propagationPolicy = "Background"): Promise<boolean> {
    try {
      await this.json("DELETE", path, {
        body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy },
      });
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return false;
      throw error;
    }
  }
}

/**
 * Loads a client for one kubeconfig context: `options.kubeconfig`, else KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account.
 *
 * @throws {TypeError} when no kubeconfig exists or the context is unknown.
 * @example
 * ```ts
 * const client = loadKubeClient({ context: "kind-dev" });
 * const ns = await client.get("/api/v1/namespaces/default");
 * ```
 */
export function loadKubeClient(options: KubeClientOptions = {}): KubeClient {
  const config = loadKubeConfig(options.kubeconfig);
  if (options.context !== undefined) {
    if (!config.getContextObject(options.context)) {
      const known = config.getContexts().map((c) => `"${c.name}"`).join(", ") || "none";
      throw new TypeError(
        `Cannot use context "${options.context}": it is not in the kubeconfig (known: ${known})`,
      );
    }
    config.setCurrentContext(options.context);
  }
  return new KubeClient(config, options.timeoutMs);
}

/** Names of every context in the kubeconfig (for `--all-contexts`). */
export function kubeContexts(kubeconfig?: string): string[] {
  return loadKubeConfig(kubeconfig).getContexts().map((c) => c.name);
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const config = new KubeConfig();
  try {
    if (path) {
      config.loadFromFile(path);
      return config;
    }
    const env = Deno.env.get("KUBECONFIG");
    const home = join(Deno.env.get("HOME") ?? homedir(), ".kube", "config");
    if (env || existsSync(home)) {
      config.loadFromDefault();
      return config;
    }
    if (existsSync(join(SERVICE_ACCOUNT_DIR, "token")) && Deno.env.get("KUBERNETES_SERVICE_HOST")) {
      config.loadFromCluster();
      return config;
    }
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new TypeError(`Cannot load kubeconfig: ${detail}`, { cause: error });
  }
  throw new TypeError(
    "Cannot find a kubeconfig: set KUBECONFIG, create ~/.kube/config, or run inside a cluster",
  );
}

/** Builds a {@link KubeApiError} from a response with a `Status` body. */
export function apiError(method: string, path: string, status: number, text: string): KubeApiError {
  let message = text.trim() || `HTTP ${status}`;
  let reason = "Unknown";
  try {
    const body = JSON.parse(text) as { kind?: string; message?: string; reason?: string };
    if (body.kind === "Status") {
      message = body.message ?? message;
      reason = body.reason ?? reason;
    }
  } catch {
    // Not JSON: keep the raw text.
  }
  let what = path;
  try {
    const a = requestAttributes(method, path);
    what = `${a.verb} ${a.resource}${a.name ? ` "${a.name}"` : ""}${
      a.namespace ? ` in namespace "${a.namespace}"` : ""
    }`;
  } catch {
    // Not a resource path (discovery, proxy): name the path.
  }
  const hint = status === 403
    ? "; ask a cluster admin for this permission (see `pipedreamer cluster check`)"
    : status === 401
    ? "; your credentials were rejected: refresh them (e.g. log in again) or pick another --context"
    : "";
  return new KubeApiError(`Cannot ${what}: ${message}${hint}`, status, reason);
}

function causeMessage(error: Error): string | undefined {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : undefined;
}
