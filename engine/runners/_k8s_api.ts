/**
 * `ctx.k8s` inside a node: the small API of {@link K8sApi} over a function that sends one call
 * to the host (a message from a sandbox worker, a direct call in-process). Shared by both
 * runners so they behave the same.
 *
 * @module
 */

import type { K8sApi, K8sResponseInfo } from "./node_api.ts";
import type { K8sAccess, K8sHostRequest, K8sHostResponse } from "../runner_protocol.ts";

/** Sends one call to the host and resolves with its answer. */
export type K8sCall = (request: K8sHostRequest) => Promise<K8sResponseInfo>;

/** Statuses a retry cannot fix: the request itself is wrong or not allowed. */
function isFinalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429;
}

/**
 * A non-2xx answer to `ctx.k8s.get()` or `list()`, carrying the HTTP status and the API's
 * Status reason. Not retried when the status says a retry cannot help (4xx but 408, 409, 429).
 */
export class K8sApiError extends Error {
  override name = "K8sApiError";
  /** HTTP status of the answer. */
  readonly status: number;
  /** `Status.reason`, e.g. "NotFound" or "Forbidden"; "" when the body is no Status. */
  readonly reason: string;
  readonly nonRetryable: boolean;

  constructor(message: string, status: number, reason: string) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.nonRetryable = isFinalStatus(status);
  }
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(
      `Cannot call the Kubernetes API: path ${JSON.stringify(path)} must be an API server ` +
        'path starting with "/", e.g. "/api/v1/namespaces/default/pods"',
    );
  }
}

/** The error of a non-2xx answer to a GET of `path`. */
export function k8sApiError(path: string, response: K8sResponseInfo): K8sApiError {
  const body = response.body;
  const status = typeof body === "object" && body !== null
    ? body as { kind?: unknown; message?: unknown; reason?: unknown }
    : {};
  const message = typeof status.message === "string"
    ? status.message
    : typeof body === "string" && body.trim() !== ""
    ? body.trim()
    : `HTTP ${response.status}`;
  const reason = typeof status.reason === "string" ? status.reason : "";
  return new K8sApiError(
    `Cannot get ${path}: ${response.status}${reason ? ` ${reason}` : ""}: ${message}`,
    response.status,
    reason,
  );
}

/**
 * Builds `ctx.k8s` over `call`.
 *
 * @throws {TypeError} from its methods, for a path that does not start with "/" or a
 *   method that is not a string.
 */
export function createK8sApi(call: K8sCall, namespace: string): K8sApi {
  const get = async <T>(path: string): Promise<T> => {
    checkPath(path);
    const response = await call({ method: "GET", path });
    if (response.status < 200 || response.status >= 300) throw k8sApiError(path, response);
    return response.body as T;
  };
  return {
    namespace,
    get,
    async list<T>(
      path: string,
      selectors: { labelSelector?: string; fieldSelector?: string } = {},
    ): Promise<T[]> {
      checkPath(path);
      const query = new URLSearchParams();
      for (const key of ["labelSelector", "fieldSelector"] as const) {
        const value = selectors[key];
        if (value !== undefined) query.set(key, String(value));
      }
      const search = query.toString();
      const full = search === "" ? path : `${path}${path.includes("?") ? "&" : "?"}${search}`;
      const body = await get<{ items?: T[] } | undefined>(full);
      return Array.isArray(body?.items) ? body.items : [];
    },
    async request(method: string, path: string, body?: unknown): Promise<K8sResponseInfo> {
      if (typeof method !== "string" || method === "") {
        throw new TypeError(
          `Cannot call the Kubernetes API: method ${JSON.stringify(method)} must be an HTTP ` +
            'method such as "GET"',
        );
      }
      checkPath(path);
      const request: K8sHostRequest = { method: method.toUpperCase(), path };
      if (body !== undefined) request.body = body;
      return await call(request);
    },
  };
}

/**
 * Asks the host transport of a node (on the host side of either runner): a throw becomes a
 * rejection and a malformed answer a TypeError.
 */
export async function askK8sHost(
  access: K8sAccess,
  request: K8sHostRequest,
): Promise<K8sHostResponse> {
  const response = await access.transport(request);
  if (
    typeof response !== "object" || response === null || !Number.isInteger(response.status)
  ) {
    throw new TypeError(
      `Cannot call the Kubernetes API: ${request.method} ${request.path} got no HTTP status ` +
        "from the engine's Kubernetes transport",
    );
  }
  return { status: response.status, body: response.body };
}

/**
 * Starts `start()` unless `signal` is aborted, and rejects with the signal's reason as soon as
 * it aborts (what was started is then left to finish on its own).
 */
export function untilAborted<T>(start: () => Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let promise: Promise<T>;
  try {
    promise = start();
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
