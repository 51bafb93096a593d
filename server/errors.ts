/**
 * Errors of the run manager that callers catch: the HTTP layer maps {@link QueueFullError} to
 * 429 and {@link DrainingError} to 503.
 *
 * @module
 */

/**
 * A run cannot be accepted: the workflow's wait list is full (`concurrency.queueLimit`).
 *
 * @example
 * ```ts
 * import { QueueFullError } from "./errors.ts";
 * const error = new QueueFullError("Cannot queue run: 100 runs are waiting; retry later");
 * console.log(error.name); // "QueueFullError"
 * ```
 */
export class QueueFullError extends Error {
  override name = "QueueFullError";
  /** The wait list limit that was reached (`concurrency.queueLimit`). */
  readonly queueLimit: number;

  constructor(message: string, options: ErrorOptions & { queueLimit?: number } = {}) {
    super(message, options);
    this.queueLimit = options.queueLimit ?? 0;
  }
}

/**
 * The run manager is shutting down (or closed) and accepts no new runs.
 *
 * @example
 * ```ts
 * import { DrainingError } from "./errors.ts";
 * const error = new DrainingError("Cannot start run: the server is shutting down");
 * console.log(error.name); // "DrainingError"
 * ```
 */
export class DrainingError extends Error {
  override name = "DrainingError";
}

/** A run that cannot be retried (`POST /runs/:id/retry`): HTTP 404, 409 or 400 by `code`. */
export class RetryError extends Error {
  override name = "RetryError";

  constructor(
    readonly code: "not_found" | "conflict" | "bad_request",
    message: string,
  ) {
    super(message);
  }
}
