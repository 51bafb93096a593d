/**
 * The one error shape of the HTTP API: `{ error: { code, message, details? } }` with a status.
 *
 * @module
 */

/** Machine-readable error codes of the HTTP API (`error.code`). */
export const ErrorCode = {
  BadRequest: "bad_request",
  InvalidInput: "invalid_input",
  Unauthorized: "unauthorized",
  NotFound: "not_found",
  MethodNotAllowed: "method_not_allowed",
  Conflict: "conflict",
  PayloadTooLarge: "payload_too_large",
  UnsupportedMediaType: "unsupported_media_type",
  QueueFull: "queue_full",
  Internal: "internal",
  BadGateway: "bad_gateway",
  Draining: "draining",
} as const;
/** One of {@link ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** HTTP status of each error code. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_input: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  queue_full: 429,
  internal: 500,
  bad_gateway: 502,
  draining: 503,
};

/** A request that gets an error response; thrown by route code, answered by the handler. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: ErrorOptions & { details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options);
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

/** A JSON response (pretty-printed: people read these with curl). */
export function jsonResponse(
  value: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${JSON.stringify(value, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** The response of an {@link HttpError}. */
export function errorResponse(error: HttpError): Response {
  const body: { code: ErrorCode; message: string; details?: unknown } = {
    code: error.code,
    message: error.message,
  };
  if (error.details !== undefined) body.details = error.details;
  return jsonResponse({ error: body }, error.status, error.headers);
}
