/**
 * Bearer-token authentication of the HTTP API. The comparison is constant-time: both tokens
 * are hashed to equal-length SHA-256 digests first, which `timingSafeEqual` then compares, so
 * neither the content nor the length of the expected token leaks through timing.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { ErrorCode, HttpError } from "./_http_error.ts";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Checks requests against one token; throws a 401 {@link HttpError} when they do not carry it. */
export type Authenticator = (request: Request) => Promise<void>;

/**
 * An {@link Authenticator} for `token`.
 * @throws {TypeError} when the token is empty
 */
export function createAuthenticator(token: string): Authenticator {
  if (token.length === 0) throw new TypeError("Cannot enable auth: the API token is empty");
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.get("authorization");
    const match = header === null ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) {
      throw new HttpError(
        ErrorCode.Unauthorized,
        "Cannot authenticate: send the API token as `Authorization: Bearer <token>`",
        { headers: { "www-authenticate": 'Bearer realm="pipedreamer"' } },
      );
    }
    const given = await digest(match[1]!);
    if (!timingSafeEqual(given, await expected)) {
      throw new HttpError(ErrorCode.Unauthorized, "Cannot authenticate: the API token is wrong", {
        headers: { "www-authenticate": 'Bearer realm="pipedreamer", error="invalid_token"' },
      });
    }
  };
}
