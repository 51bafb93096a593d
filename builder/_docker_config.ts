/**
 * Registry credentials from the docker CLI's config file (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`), the `auths` section that `docker login` and `skopeo login` write.
 *
 * @module
 */

import { join } from "node:path";

/** Credentials for one registry. Never logged, never put in an error message. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`), exchanged at the token realm. */
  identityToken?: string;
}

/** Options of {@link readDockerCredentials}. */
export interface DockerConfigOptions {
  /** Path of config.json. @default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` */
  configPath?: string;
}

/** The default location of the docker config file, or undefined without HOME/DOCKER_CONFIG. */
export function defaultDockerConfigPath(): string | undefined {
  const dir = Deno.env.get("DOCKER_CONFIG");
  if (dir) return join(dir, "config.json");
  const home = Deno.env.get("HOME");
  return home ? join(home, ".docker", "config.json") : undefined;
}

/**
 * Finds the credentials for `registry` (host[:port]). Keys are matched as docker does: the bare
 * host, or a URL whose host is `registry` (`https://index.docker.io/v1/` for Docker Hub).
 *
 * @throws {TypeError} when the config file is not valid JSON or an `auth` value is not
 * base64 of `user:password`
 * @example
 * ```ts
 * const creds = await readDockerCredentials("ghcr.io");
 * ```
 */
export async function readDockerCredentials(
  registry: string,
  options: DockerConfigOptions = {},
): Promise<RegistryCredentials | undefined> {
  const path = options.configPath ?? defaultDockerConfigPath();
  if (!path) return undefined;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  let config: { auths?: Record<string, Record<string, unknown>> };
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cannot read registry credentials from "${path}": invalid JSON`, {
      cause: error,
    });
  }
  const wanted = registry === "docker.io"
    ? ["docker.io", "index.docker.io", "registry-1.docker.io"]
    : [registry];
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (!wanted.includes(hostOf(key))) continue;
    return credentialsOf(entry, key, path);
  }
  return undefined;
}

function hostOf(key: string): string {
  if (!key.includes("://")) return key.replace(/\/.*$/, "");
  try {
    return new URL(key).host;
  } catch {
    return key;
  }
}

function credentialsOf(
  entry: Record<string, unknown>,
  key: string,
  path: string,
): RegistryCredentials {
  const creds: RegistryCredentials = {};
  if (typeof entry.auth === "string" && entry.auth !== "") {
    let decoded: string;
    try {
      decoded = atob(entry.auth);
    } catch (error) {
      throw new TypeError(
        `Cannot read registry credentials for "${key}" from "${path}": "auth" is not base64; run docker login again`,
        { cause: error },
      );
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new TypeError(
        `Cannot read registry credentials for "${key}" from "${path}": "auth" must encode "user:password"`,
      );
    }
    creds.username = decoded.slice(0, colon);
    creds.password = decoded.slice(colon + 1);
  }
  if (typeof entry.username === "string") creds.username = entry.username;
  if (typeof entry.password === "string") creds.password = entry.password;
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    creds.identityToken = entry.identitytoken;
  }
  return creds;
}
