/**
 * Builds the {@link Context} a node receives (SPEC §3). Shared by the sandbox worker and the
 * in-process runner, so both behave the same.
 *
 * `ctx.fetch` header rule: an `Authorization` or `X-API-Key` header the node sets itself wins
 * over the one injected from the service's secret (a node may need another scheme for one call).
 *
 * @module
 */

import { createK8sApi, type K8sCall, untilAborted } from "./_k8s_api.ts";
import type { Context, Logger } from "./node_api.ts";
import type { LogLevel, LogLine, RecordedFetch } from "../run_record.ts";
import type { FetchRequestInfo, FetchResponseInfo, StepStore } from "../runner_protocol.ts";

/** Everything one attempt's context is made of. */
export interface ContextOptions {
  runId: string;
  /** The node id. */
  node: string;
  attempt: number;
  config: Record<string, unknown>;
  secrets: Record<string, unknown>;
  /**
   * Services that have secrets the node was not granted: `ctx.fetch` to one of them fails
   * naming the capability to add instead of calling it without credentials.
   */
  withheld?: readonly string[];
  tmpDir: string;
  signal: AbortSignal;
  /** `services:` of workflow.yaml. */
  services: Readonly<Record<string, string>>;
  /** Declared children of the node: the only valid `ctx.route()` targets. */
  children: readonly string[];
  onLog: (line: LogLine) => void;
  onProgress?: (value: number, message?: string) => void;
  /** Answers `ctx.fetch` instead of the network (fixtures). */
  mock?: (request: FetchRequestInfo, signal: AbortSignal) => Promise<FetchResponseInfo>;
  /** The network. @default globalThis.fetch */
  fetch?: (request: Request) => Promise<Response>;
  /** Receives each real `ctx.fetch` exchange before the node gets the response. @default none */
  onFetch?: (exchange: RecordedFetch) => void;
  /** Sent as the `traceparent` header of `ctx.fetch` unless the node sets one. @default none */
  traceparent?: string;
  /** `ctx.k8s`: its namespace and how a call reaches the host. @default no ctx.k8s */
  k8s?: { namespace: string; call: K8sCall };
  /** `ctx.item` of a map element. @default undefined */
  item?: { index: number; total: number };
  /** Where `ctx.step` keeps its results. @default none: ctx.step fails */
  step?: StepStore;
}

/** A context and what the node chose with it. */
export interface NodeContext {
  ctx: Context;
  /** Children chosen with `ctx.route()`; undefined when it was never called. */
  routes(): string[] | undefined;
}

const ABSOLUTE_URL = /^(?:[a-z][a-z\d+.-]*:|\/\/)/i;
const HOST_LABEL = /^[a-z\d](?:[a-z\d-]*[a-z\d])?$/i;

/**
 * The URL `ctx.fetch(service, path)` calls: the base URL from `services:`, else
 * `https://api.<service>.com`, joined with `path` (query kept).
 *
 * @throws {TypeError} When `path` is an absolute URL (secrets must not leave the service) or
 * an undeclared service name is not a host label.
 */
export function serviceUrl(
  services: Readonly<Record<string, string>>,
  service: string,
  path: string,
): string {
  if (typeof service !== "string" || typeof path !== "string") {
    throw new TypeError("Cannot fetch: ctx.fetch(service, path) takes two strings");
  }
  if (ABSOLUTE_URL.test(path)) {
    throw new TypeError(
      `Cannot fetch from service "${service}": path "${path}" must be relative to the ` +
        "service's base URL; use fetch() for other URLs",
    );
  }
  let base = Object.hasOwn(services, service) ? services[service] : undefined;
  if (base === undefined) {
    if (!HOST_LABEL.test(service)) {
      throw new TypeError(
        `Cannot fetch from service "${service}": it is not declared in services: and is not ` +
          "a host name; add its base URL to services: in workflow.yaml",
      );
    }
    base = `https://api.${service.toLowerCase()}.com`;
  }
  const root = base.replace(/\/+$/, "");
  if (path === "") return root;
  return root + (path.startsWith("/") || path.startsWith("?") ? path : `/${path}`);
}

/**
 * A real `Response` from a mocked one: a string body is sent as is, anything else as JSON.
 *
 * @throws {RangeError} When the status is not a final HTTP status (200-599).
 */
export function toResponse(info: FetchResponseInfo): Response {
  const status = info.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`Cannot build a mocked response: status ${status} is not in 200-599`);
  }
  const headers = new Headers(info.headers);
  const nullBody = status === 204 || status === 205 || status === 304;
  let body: string | null = null;
  if (!nullBody && info.body !== undefined) {
    if (typeof info.body === "string") {
      body = info.body;
    } else {
      body = JSON.stringify(info.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
  }
  return new Response(body, { status, headers });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Log fields as plain JSON data (errors keep name, message and stack). */
function jsonFields(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(fields, (_key, value) => {
      if (value instanceof Error) {
        return { name: value.name, message: value.message, stack: value.stack };
      }
      return typeof value === "bigint" ? value.toString() : value;
    }));
  } catch (error) {
    return { unserialisable: error instanceof Error ? error.message : String(error) };
  }
}

async function bodyText(request: Request): Promise<string | undefined> {
  if (request.body === null) return undefined;
  const text = await request.text();
  return text === "" ? undefined : text;
}

/** Builds the context of one attempt. */
export function createContext(options: ContextOptions): NodeContext {
  const { runId, node, attempt, services, children, signal } = options;
  let routes: string[] | undefined;

  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    const ts = new Date().toISOString();
    const line: LogLine = { ts, level, msg: String(msg), runId, node, attempt };
    if (fields !== undefined) line.fields = isRecord(fields) ? jsonFields(fields) : { fields };
    options.onLog(line);
  };
  const log: Logger = {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };

  async function fetchService(service: string, path: string, init: RequestInit = {}) {
    const url = serviceUrl(services, service, path);
    if (options.withheld?.includes(service) && !Object.hasOwn(options.secrets, service)) {
      throw new TypeError(
        `Cannot fetch from service "${service}": node "${node}" may not use its secrets; add ` +
          `capabilities: { secrets: [${service}] } to the node in workflow.yaml`,
      );
    }
    const headers = new Headers(init.headers);
    if (options.traceparent && !headers.has("traceparent")) {
      headers.set("traceparent", options.traceparent);
    }
    const secret = options.secrets[service];
    if (isRecord(secret)) {
      if (typeof secret.token === "string" && !headers.has("authorization")) {
        headers.set("authorization", `Bearer ${secret.token}`);
      }
      if (typeof secret.api_key === "string" && !headers.has("x-api-key")) {
        headers.set("x-api-key", secret.api_key);
      }
    }
    const callSignal = init.signal ? AbortSignal.any([signal, init.signal]) : signal;
    const request = new Request(url, { ...init, headers, signal: callSignal });
    if (!options.mock) {
      const response = await (options.fetch ?? fetch)(request);
      if (options.onFetch) {
        options.onFetch(await recordExchange(service, request.method, path, response));
      }
      return response;
    }
    callSignal.throwIfAborted();
    const info: FetchRequestInfo = {
      service,
      method: request.method,
      path,
      url,
      headers: Object.fromEntries(request.headers),
    };
    const body = await bodyText(request);
    if (body !== undefined) info.body = body;
    return toResponse(await options.mock(info, callSignal));
  }

  const ctx: Context = {
    fetch: fetchService,
    log,
    config: options.config,
    secrets: options.secrets as Context["secrets"],
    signal,
    runId,
    node,
    attempt,
    tmpDir: options.tmpDir,
    route(...ids: string[]) {
      for (const id of ids) {
        if (children.includes(id)) continue;
        const declared = children.length > 0
          ? `its children are ${children.map((c) => `"${c}"`).join(", ")}`
          : "it has no children";
        throw new TypeError(
          `Cannot route from node "${node}" to "${id}": ${declared}; add an edge ` +
            `{ from: ${node}, to: ${id} } to workflow.yaml`,
        );
      }
      routes ??= [];
      for (const id of ids) if (!routes.includes(id)) routes.push(id);
    },
    async step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
      if (typeof name !== "string" || name === "") {
        throw new TypeError("Cannot run step: its name must be a non-empty string");
      }
      if (typeof fn !== "function") {
        throw new TypeError(`Cannot run step "${name}": ctx.step(name, fn) needs a function`);
      }
      const host = options.step;
      if (!host) {
        throw new Error(`Cannot run step "${name}": this runner keeps no step results`);
      }
      const stored = await untilAborted(() => host.get(name), signal);
      if (stored) return stored.value as T;
      const value = await fn();
      let json: unknown;
      try {
        const text = JSON.stringify(value);
        json = text === undefined ? null : JSON.parse(text);
      } catch (error) {
        throw new TypeError(
          `Cannot store step "${name}": its result is not JSON (${(error as Error).message})`,
          { cause: error },
        );
      }
      const kept = await untilAborted(() => host.put(name, json), signal);
      return kept.value as T;
    },
    progress(value: number, message?: string) {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new TypeError(`Cannot report progress: value ${value} is not a finite number`);
      }
      if (message !== undefined && typeof message !== "string") {
        throw new TypeError("Cannot report progress: message must be a string");
      }
      options.onProgress?.(value, message);
    },
  };
  if (options.item) ctx.item = { index: options.item.index, total: options.item.total };
  if (options.k8s) {
    const { call, namespace } = options.k8s;
    // A call in flight when the attempt ends rejects at once; its answer is dropped.
    ctx.k8s = createK8sApi((request) => untilAborted(() => call(request), signal), namespace);
  }
  return { ctx, routes: () => routes };
}

/** Largest response body kept by `recordFetch` (a larger one is recorded without its body). */
const MAX_RECORDED_BODY = 1024 * 1024;

/** One exchange as `recordFetch` keeps it: no headers, the body parsed as JSON when it is. */
async function recordExchange(
  service: string,
  method: string,
  path: string,
  response: Response,
): Promise<RecordedFetch> {
  const exchange: RecordedFetch = {
    service,
    method: method.toUpperCase(),
    path,
    status: response.status,
  };
  const length = Number(response.headers.get("content-length") ?? "0");
  if (length > MAX_RECORDED_BODY) return exchange;
  try {
    const text = await response.clone().text();
    if (text.length > MAX_RECORDED_BODY || text === "") return exchange;
    try {
      exchange.body = JSON.parse(text);
    } catch {
      exchange.body = text;
    }
  } catch {
    // An unreadable body (aborted): the status alone is recorded.
  }
  return exchange;
}
