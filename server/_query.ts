/**
 * Strict parsing of query parameters: unknown names and malformed values are 400s that say
 * what is accepted.
 *
 * @module
 */

import { ErrorCode, HttpError } from "./_http_error.ts";

/** The query of `url`, rejecting parameters other than `allowed` and repeated ones. */
export function queryOf(url: URL, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) {
      throw new HttpError(
        ErrorCode.BadRequest,
        `Cannot handle query parameter "${name.slice(0, 64)}": ${url.pathname.slice(0, 64)} ${
          allowed.length === 0 ? "takes none" : `accepts ${allowed.join(", ")}`
        }`,
      );
    }
    if (out.has(name)) {
      throw new HttpError(
        ErrorCode.BadRequest,
        `Cannot handle query parameter "${name}": it is repeated`,
      );
    }
    out.set(name, value);
  }
  return out;
}

/** An integer parameter within `[min, max]`, or undefined when absent. */
export function intParam(
  query: Map<string, string>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = query.get(name);
  if (text === undefined) return undefined;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(
      ErrorCode.BadRequest,
      `Cannot handle query parameter "${name}": expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}
