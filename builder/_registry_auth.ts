/**
 * Registry authentication: parsing a `WWW-Authenticate` challenge and answering it with basic
 * credentials or with a bearer token fetched from the challenge's realm (the docker token
 * flow: https://distribution.github.io/distribution/spec/auth/token/).
 *
 * @module
 */

import type { RegistryCredentials } from "./_docker_config.ts";

/** A parsed `WWW-Authenticate` header. */
export interface AuthChallenge {
  scheme: "basic" | "bearer";
  /** Lowercased parameter names: realm, service, scope, error, … */
  params: Record<string, string>;
}

/**
 * Parses `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`
 * or `Basic realm="Registry"`; undefined for other schemes.
 */
export function parseChallenge(header: string): AuthChallenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match?.[1]) return undefined;
  const scheme = match[1].toLowerCase();
  if (scheme !== "basic" && scheme !== "bearer") return undefined;
  const params: Record<string, string> = {};
  const pattern = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const param of (match[2] ?? "").matchAll(pattern)) {
    const name = param[1]?.toLowerCase();
    if (name) params[name] = (param[2] ?? param[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme, params };
}

/** Options of {@link authorizationFor}. */
export interface AuthorizationOptions {
  fetch: typeof fetch;
  /** Throws when the token realm may not receive credentials (not HTTPS, say). */
  checkUrl: (realm: URL) => void;
}

/**
 * The `Authorization` header value that answers `challenge`.
 *
 * @throws {Error} when basic auth is demanded without credentials, or the token realm refuses
 */
export async function authorizationFor(
  challenge: AuthChallenge,
  credentials: RegistryCredentials | undefined,
  options: AuthorizationOptions,
): Promise<string> {
  if (challenge.scheme === "basic") {
    if (credentials?.username === undefined || credentials.password === undefined) {
      throw new Error(
        `Cannot authenticate to the registry: it requires a user name and password; run docker login (or skopeo login) first`,
      );
    }
    return `Basic ${btoa(`${credentials.username}:${credentials.password}`)}`;
  }
  const realmText = challenge.params.realm;
  if (!realmText) {
    throw new Error(`Cannot authenticate to the registry: its bearer challenge names no realm`);
  }
  const realm = new URL(realmText);
  options.checkUrl(realm);
  const service = challenge.params.service;
  const scopes = (challenge.params.scope ?? "").split(" ").filter(Boolean);
  let response: Response;
  if (credentials?.identityToken) {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: credentials.identityToken,
      client_id: "pipedreamer",
    });
    if (service) form.set("service", service);
    if (scopes.length > 0) form.set("scope", scopes.join(" "));
    response = await options.fetch(realm, { method: "POST", body: form });
  } else {
    const url = new URL(realm);
    if (service) url.searchParams.set("service", service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    const headers: Record<string, string> = {};
    if (credentials?.username !== undefined && credentials.password !== undefined) {
      headers.authorization = `Basic ${btoa(`${credentials.username}:${credentials.password}`)}`;
    }
    response = await options.fetch(url, { headers });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(
      `Cannot get a registry token from "${realm.origin}${realm.pathname}": HTTP ${response.status}${
        credentials ? " (check the credentials in the docker config)" : "; log in with docker login"
      }`,
    );
  }
  const body = await response.json() as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) {
    throw new Error(
      `Cannot get a registry token from "${realm.origin}${realm.pathname}": the response has no token`,
    );
  }
  return `Bearer ${token}`;
}
