/**
 * Image references: parsing, the `--cluster-registry` rewrite and the pull policy.
 *
 * @module
 */

/** A parsed OCI image reference. */
export interface ImageRef {
  /** Registry host (with port), undefined for Docker Hub short names. */
  registry?: string;
  repository: string;
  tag?: string;
  /** `sha256:…` */
  digest?: string;
}

const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,}$/;

/**
 * Parses `[registry/]repository[:tag][@digest]`.
 *
 * @throws {TypeError} when the reference is malformed.
 */
export function parseImageRef(ref: string): ImageRef {
  const fail = (detail: string) =>
    new TypeError(`Cannot parse image reference "${ref}": ${detail}`);
  if (ref.trim() === "" || /\s/.test(ref)) throw fail("it is empty or contains whitespace");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw fail(`bad digest "${digest}"`);
  }
  let registry: string | undefined;
  const slash = rest.indexOf("/");
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw fail(`bad tag "${tag}"`);
  }
  if (!REPOSITORY.test(rest)) {
    throw fail(`bad repository "${rest}" (lowercase letters, digits, ".", "_", "-" and "/")`);
  }
  return { registry, repository: rest, tag, digest };
}

/** Renders an {@link ImageRef} back to its string form. */
export function formatImageRef(image: ImageRef): string {
  return `${image.registry ? `${image.registry}/` : ""}${image.repository}` +
    `${image.tag ? `:${image.tag}` : ""}${image.digest ? `@${image.digest}` : ""}`;
}

/**
 * Replaces the registry host of `ref` by `clusterRegistry` (the address the cluster's nodes
 * pull from, e.g. when images are pushed to `localhost:5000` but nodes see `registry:5000`).
 */
export function rewriteRegistry(ref: string, clusterRegistry: string | undefined): string {
  if (!clusterRegistry) return ref;
  const host = clusterRegistry.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
  return formatImageRef({ ...parseImageRef(ref), registry: host });
}

/** Digests never change, so a cached image is fine; a tag may move, so always pull it. */
export function pullPolicy(ref: string): "Always" | "IfNotPresent" {
  return parseImageRef(ref).digest ? "IfNotPresent" : "Always";
}
