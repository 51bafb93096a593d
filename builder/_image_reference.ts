/**
 * Image references as docker and skopeo read them: `[registry[:port]/]repository[:tag][@digest]`.
 * Without a registry the reference means Docker Hub (`docker.io`, `library/` for single names).
 *
 * @module
 */

/** A parsed image reference. */
export interface ImageReference {
  /** Host and optional port, e.g. `ghcr.io`, `127.0.0.1:5000`; `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path, e.g. `distroless/cc-debian12`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = "docker.io";
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Parses an image reference.
 *
 * @throws {TypeError} when the reference is malformed (the message names the bad part)
 * @example
 * ```ts
 * parseImageReference("gcr.io/distroless/cc-debian12:nonroot");
 * // { registry: "gcr.io", repository: "distroless/cc-debian12", tag: "nonroot" }
 * ```
 */
export function parseImageReference(reference: string): ImageReference {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      throw new TypeError(
        `Cannot parse image reference "${reference}": digest "${digest}" is not "sha256:<64 hex digits>"`,
      );
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw new TypeError(
        `Cannot parse image reference "${reference}": tag "${tag}" may use only letters, digits, "_", "." and "-" (at most 128)`,
      );
    }
  }
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  const hasRegistry = slash >= 0 &&
    (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : DOCKER_HUB;
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) {
    throw new TypeError(
      `Cannot parse image reference "${reference}": repository "${repository}" must be lowercase letters, digits and separators`,
    );
  }
  return { registry, repository, tag, digest };
}

/** Formats a reference back to text (`registry/repository[:tag][@digest]`). */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${
    ref.digest ? `@${ref.digest}` : ""
  }`;
}

/** Whether `registry` (host[:port]) is a loopback address: the only place plain HTTP is allowed. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[")
    ? registry.slice(1, registry.indexOf("]"))
    : registry.replace(/:\d+$/, "");
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
