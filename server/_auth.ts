/**
 * Token authentication of the HTTP API: `Authorization: Bearer <token>`, or the same token in
 * `X-Pipedreamer-Token` (the Kubernetes API server strips `Authorization` from requests it
 * proxies to a Service, so `pipedreamer run <name>` sends this header). The comparison is
 * constant-time: both tokens are hashed to equal-length SHA-256 digests first, which
 * `timingSafeEqual` then compares, so neither the content nor the length of the expected token
 * leaks through timing.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { ErrorCode, HttpError } from "./_http_error.ts";

const encoder = new TextEncoder();

/** The header that carries the API token through the Kubernetes API server's service proxy. */
export const TOKEN_HEADER = "x-pipedreamer-token";

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** The tokens a request carries: its bearer token and its token header, when present. */
function tokensOf(request: Request): string[] {
  const tokens: string[] = [];
  const header = request.headers.get("authorization");
  const bearer = header === null ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (bearer) tokens.push(bearer[1]!);
  const token = request.headers.get(TOKEN_HEADER)?.trim();
  if (token) tokens.push(token);
  return tokens;
}

/** Checks requests against one token; throws a 401 {@link HttpError} when they do not carry it. */
export type Authenticator = (request: Request) => Promise<void>;

/**
 * An {@link Authenticator} for `token`: a request is let in when its bearer token or its
 * `X-Pipedreamer-Token` header is the token (a gateway may set its own `Authorization`).
 * @throws {TypeError} when the token is empty
 */
export function createAuthenticator(token: string): Authenticator {
  if (token.length === 0) throw new TypeError("Cannot enable auth: the API token is empty");
  const expected = digest(token);
  return async (request) => {
    const tokens = tokensOf(request);
    if (tokens.length === 0) {
      throw new HttpError(
        ErrorCode.Unauthorized,
        "Cannot authenticate: send the API token as `Authorization: Bearer <token>` " +
          "(or `X-Pipedreamer-Token: <token>` through a proxy that drops Authorization)",
        { headers: { "www-authenticate": 'Bearer realm="pipedreamer"' } },
      );
    }
    let valid = false;
    for (const given of tokens) {
      // Every candidate is compared: no early exit that would tell which one matched.
      if (timingSafeEqual(await digest(given), await expected)) valid = true;
    }
    if (!valid) {
      throw new HttpError(ErrorCode.Unauthorized, "Cannot authenticate: the API token is wrong", {
        headers: { "www-authenticate": 'Bearer realm="pipedreamer", error="invalid_token"' },
      });
    }
  };
}
