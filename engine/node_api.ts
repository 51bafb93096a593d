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
}

/** The shape of a node module's default export. */
export type NodeFunction<I = unknown, O = unknown> = (ctx: Context, input: I) => Promise<O> | O;
