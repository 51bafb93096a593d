/**
 * OCI image-spec shapes (manifest, index, config, descriptor) and the media types the builder
 * reads and writes, including the Docker schema 2 equivalents registries still serve.
 *
 * @module
 */

/** Media types of manifests, configs and layers. */
export const MediaType = {
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;
/** One of {@link MediaType}. */
export type MediaType = typeof MediaType[keyof typeof MediaType];

/** Media types that list per-platform manifests. */
export const INDEX_MEDIA_TYPES: readonly string[] = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
];
/** Media types of a single-platform image manifest. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OciManifest,
  MediaType.DockerManifest,
];

/** An OS/architecture pair such as `linux/amd64`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** An image manifest (OCI or Docker schema 2: same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index / manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** The part of the image config the builder reads and writes. */
export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    Labels?: Record<string, string>;
    [key: string]: unknown;
  };
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  [key: string]: unknown;
}

/** Supported build platforms. */
export const BuildPlatform = {
  LinuxAmd64: "linux/amd64",
  LinuxArm64: "linux/arm64",
} as const;
/** One of {@link BuildPlatform}. */
export type BuildPlatform = typeof BuildPlatform[keyof typeof BuildPlatform];

/**
 * Parses `linux/amd64` or `linux/arm64`.
 *
 * @throws {RangeError} for any other platform
 */
export function parsePlatform(platform: string): Platform {
  if (!(Object.values(BuildPlatform) as string[]).includes(platform)) {
    throw new RangeError(
      `Cannot build for platform "${platform}": use one of ${
        Object.values(BuildPlatform).map((p) => `"${p}"`).join(", ")
      }`,
    );
  }
  const [os, architecture] = platform.split("/") as [string, string];
  return { os, architecture };
}

/** Whether a descriptor's platform matches (arm64 accepts the `v8` variant or none). */
export function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  if (wanted.variant) return candidate.variant === wanted.variant;
  return candidate.variant === undefined || candidate.variant === "v8" ||
    candidate.architecture !== "arm64";
}

/** Docker layer media types as their OCI equivalents (same bytes). */
export function ociLayerMediaType(mediaType: string): string {
  if (mediaType === MediaType.DockerLayerGzip) return MediaType.OciLayerGzip;
  return mediaType;
}

/** Stable JSON bytes: the same value always serialises to the same digest. */
export function canonicalJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(sortKeys(value)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** RFC 3339 time of `seconds` since the epoch, without fractions (`1970-01-01T00:00:00Z`). */
export function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
