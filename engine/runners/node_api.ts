/**
 * The node author's API: `import type { Context } from "pipedreamer"`.
 *
 * This file has no imports on purpose: `pipedreamer init` copies it into new projects so their
 * `deno.json` can map "pipedreamer" to it and `deno check` works without this repository.
 *
 * @example
 * ```ts
 * import type { Context } from "pipedreamer";
 *
 * export default async function run(ctx: Context, input: { user: string }) {
 *   const res = await ctx.fetch("github", `/users/${input.user}/repos`);
 *   ctx.log.info("fetched repos", { status: res.status });
 *   return await res.json();
 * }
 * ```
 *
 * @module
 */

/** Structured logger; every line is tagged with run, node and attempt. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** An answer of the Kubernetes API server: the HTTP status and the parsed JSON body. */
export interface K8sResponseInfo {
  status: number;
  /** Parsed JSON; the raw text when the body is not JSON; undefined when empty. */
  body: unknown;
}

/**
 * `ctx.k8s`: the Kubernetes API, for nodes that declare `capabilities.k8s`. Calls run on the
 * engine's side with the service account's token in the cluster (the kubeconfig in dev), so
 * the node never sees a credential; each call must be granted by the node's rules. Paths are
 * API server paths, e.g. `/api/v1/namespaces/default/pods` or `/apis/apps/v1/deployments`.
 */
export interface K8sApi {
  /** The workflow's namespace (where `scope: namespace` rules apply). */
  readonly namespace: string;
  /** GET a path and return the parsed JSON; a non-2xx status throws with the API's message. */
  get<T = unknown>(path: string): Promise<T>;
  /** GET a collection and return its items. */
  list<T = unknown>(
    path: string,
    selectors?: { labelSelector?: string; fieldSelector?: string },
  ): Promise<T[]>;
  /** Any call; never throws on a non-2xx status. */
  request(method: string, path: string, body?: unknown): Promise<K8sResponseInfo>;
}

/** What every node receives as its first argument. */
export interface Context {
  /**
   * Calls a service: the base URL comes from `services:` in workflow.yaml, or
   * `https://api.<service>.com`. Injects `Authorization: Bearer <token>` when the service's
   * secret has `token`, and `X-API-Key: <api_key>` when it has `api_key`.
   */
  fetch(service: string, path: string, init?: RequestInit): Promise<Response>;
  log: Logger;
  /** The workflow's `config:` map (with runtime overrides). */
  config: Record<string, unknown>;
  /** Secrets keyed by service, e.g. `ctx.secrets.github.token`. */
  secrets: Record<string, Record<string, unknown> | string | undefined>;
  /** Aborted at the attempt's timeout or when the run is cancelled. */
  signal: AbortSignal;
  runId: string;
  /** This node's id. */
  node: string;
  /** 1-based attempt number. */
  attempt: number;
  /** A per-run directory the node may write to. */
  tmpDir: string;
  /** Chooses which declared children run; the others are skipped. */
  route(...ids: string[]): void;
  /** Reports progress of a long node (stored and streamed with the run). */
  progress(value: number, message?: string): void;
  /**
   * The Kubernetes API; present only when the node declares `capabilities.k8s` (undefined
   * otherwise). `get` and `list` reject on a non-2xx status with an Error whose `status` is
   * the HTTP status and whose `reason` is the API's Status reason (e.g. "NotFound"); a call
   * the node's rules do not grant fails and names the rule to add.
   *
   * @example
   * ```ts
   * const pods = await ctx.k8s!.list<{ metadata: { name: string } }>(
   *   `/api/v1/namespaces/${ctx.k8s!.namespace}/pods`,
   *   { labelSelector: "app=web" },
   * );
   * ```
   */
  k8s?: K8sApi;
}

/** The shape of a node module's default export. */
export type NodeFunction<I = unknown, O = unknown> = (ctx: Context, input: I) => Promise<O> | O;
