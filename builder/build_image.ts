/**
 * `buildImage()`: a workflow's engine image, assembled without a Docker daemon. The base image
 * is pulled through the OCI distribution API, the runtime (and, when it does not fit a
 * ConfigMap, the workflow bundle) is added as reproducible layers, and the result is pushed
 * to a registry and/or written as an OCI layout directory or archive.
 *
 * @module
 */

import { assembleImage, type BaseImage } from "./_assemble_image.ts";
import { readDockerCredentials } from "./_docker_config.ts";
import {
  formatImageReference,
  isLoopbackRegistry,
  parseImageReference,
} from "./_image_reference.ts";
import type { BundlePlacement } from "./_image_plan.ts";
import type { ImageConfig } from "./_oci.ts";
import { type ContentBlob, writeOciLayout } from "./_oci_layout.ts";
import type { ProgressCallback } from "./_progress.ts";
import { RegistryClient } from "./_registry_client.ts";
import { prepareBuild } from "./_prepare_build.ts";
import type { RuntimeKind } from "./_runtime.ts";

/** Options of {@link buildImage}. */
export interface BuildImageOptions {
  /** Image name, `name[:tag]`; a name without a tag gets the workflow version. @default `<workflow>:<version>` */
  tag?: string;
  /** Registry (and optional path) the name is placed under, e.g. `ghcr.io/acme`. @default none */
  registry?: string;
  /** Push the image to its registry. @default false */
  push?: boolean;
  /** Write an OCI layout directory, or an OCI archive when the path ends in `.tar`. @default none */
  out?: string;
  /** `linux/amd64` or `linux/arm64`. @default "linux/amd64" */
  platform?: string;
  /** Base image reference. @default DEFAULT_BASE_IMAGE */
  base?: string;
  /** A `pipedreamer` (deno compile) or deno binary for the platform. @default this host's deno (amd64 only) */
  runtimeBinary?: string;
  /** Allow plain HTTP to loopback registries. @default false */
  insecureRegistry?: boolean;
  /** Where the workflow bundle goes. @default "auto" (ConfigMap when it fits in 900 KiB) */
  bundle?: BundlePlacement;
  /** Also write the bundle's files here. @default none */
  bundleOut?: string;
  /** Docker config file with registry credentials. @default `~/.docker/config.json` */
  dockerConfig?: string;
  /** Upload blobs larger than this in chunks. @default 16 MiB */
  chunkSize?: number;
  /** Timestamp of every file and of the image, in seconds. @default SOURCE_DATE_EPOCH or 0 */
  sourceDateEpoch?: number;
  /** Receives steps and transfer progress. @default none */
  onProgress?: ProgressCallback;
  /** Cancels bundling. @default none */
  signal?: AbortSignal;
}

/** What {@link buildImage} produced. */
export interface BuildImageResult {
  /** Full reference, e.g. `ghcr.io/acme/hello:1.0.0`. */
  image: string;
  /** Manifest digest. */
  digest: string;
  platform: string;
  runtime: RuntimeKind;
  layers: {
    digest: string;
    size: number;
    mediaType: string;
    role: "base" | "runtime" | "workflow";
  }[];
  bundle: {
    inConfigMap: boolean;
    inImage: boolean;
    bytes: number;
    codeHash: string;
    files: string[];
  };
  pushed: boolean;
  out?: string;
}

/**
 * Builds the engine image of the workflow in `workflowDir`.
 *
 * @throws {WorkflowSyntaxError} when the workflow is invalid
 * @throws {TypeError} on bad options: neither `push` nor `out`, a bad platform, arm64 without
 * `runtimeBinary`, a bundle forced into a ConfigMap that is too large, plain HTTP to a
 * non-loopback registry
 * @throws {RegistryError} when pulling the base or pushing fails
 * @example
 * ```ts
 * const result = await buildImage("examples/hello", {
 *   registry: "127.0.0.1:5000",
 *   push: true,
 *   insecureRegistry: true,
 * });
 * console.log(result.image, result.digest);
 * ```
 */
export async function buildImage(
  workflowDir: string,
  options: BuildImageOptions = {},
): Promise<BuildImageResult> {
  if (!options.push && !options.out) {
    throw new TypeError(
      `Cannot build an image: pass push: true (--push) or out (--out <dir|file.tar>)`,
    );
  }
  const step = (message: string) => options.onProgress?.({ kind: "step", message });
  if (options.push && !options.registry && !hasExplicitRegistry(options.tag)) {
    throw new TypeError(
      `Cannot push "${
        options.tag ?? "the image"
      }": no registry given; pass -r <registry> or a tag with a registry host`,
    );
  }
  const { bundle, inImage, platform, baseName, created, plan } = await prepareBuild(
    workflowDir,
    options,
  );
  const reference = plan.reference;
  if (options.insecureRegistry && options.push && !isLoopbackRegistry(reference.registry)) {
    throw new TypeError(
      `Cannot push to "${reference.registry}" over plain HTTP: --insecure-registry is allowed only for loopback registries (localhost, 127.0.0.0/8, [::1])`,
    );
  }

  const client = new RegistryClient({
    insecure: options.insecureRegistry,
    chunkSize: options.chunkSize,
    onProgress: options.onProgress,
    credentials: (registry) =>
      readDockerCredentials(registry, { configPath: options.dockerConfig }),
  });
  step(`Pulling base image ${baseName}`);
  const baseRef = parseImageReference(baseName);
  const base = await pullBase(client, baseName, platform).catch((error) => {
    throw withFix(
      error,
      `pass --base with a reachable image (and --insecure-registry for a loopback one)`,
    );
  });
  const image = await assembleImage(plan, base, created);

  const baseBlobs = new Map<string, Promise<Uint8Array>>();
  const baseBlob = (digest: string) => {
    const descriptor = image.baseLayers.find((l) => l.digest === digest)!;
    if (!baseBlobs.has(digest)) baseBlobs.set(digest, client.getBlob(baseRef, descriptor));
    return baseBlobs.get(digest)!;
  };

  if (options.push) {
    step(`Pushing ${formatImageReference(reference)}`);
    const sameRegistry = baseRef.registry === reference.registry;
    for (const layer of image.baseLayers) {
      await client.pushBlob(reference, layer, () => baseBlob(layer.digest), {
        mountFrom: sameRegistry ? baseRef.repository : undefined,
      });
    }
    for (const blob of [...image.ownLayers, image.config]) {
      await client.pushBlob(reference, blob.descriptor, blob.data);
    }
    await client.putManifest(
      reference,
      reference.tag ?? image.manifest.descriptor.digest,
      image.manifest,
    );
  }
  if (options.out) {
    step(`Writing ${options.out}`);
    const layers: ContentBlob[] = [];
    for (const layer of image.baseLayers) {
      layers.push({ descriptor: layer, data: await baseBlob(layer.digest) });
    }
    layers.push(...image.ownLayers);
    await writeOciLayout(options.out, { manifest: image.manifest, config: image.config, layers }, {
      refName: reference.tag,
      mtime: created,
    });
  }

  return {
    image: formatImageReference(reference),
    digest: image.manifest.descriptor.digest,
    platform: `${platform.os}/${platform.architecture}`,
    runtime: plan.runtime.kind,
    layers: [
      ...image.baseLayers.map((l) => ({ ...l, role: "base" as const })),
      ...image.ownLayers.map((l) => ({ ...l.descriptor, role: l.role })),
    ],
    bundle: {
      inConfigMap: !inImage,
      inImage,
      bytes: bundle.bytes,
      codeHash: bundle.manifest.codeHash,
      files: Object.keys(bundle.files),
    },
    pushed: options.push === true,
    out: options.out,
  };
}

async function pullBase(
  client: RegistryClient,
  name: string,
  platform: { os: string; architecture: string },
): Promise<BaseImage> {
  const ref = parseImageReference(name);
  const { manifest, fetched } = await client.pullManifest(ref, platform);
  const configData = await client.getBlob(ref, manifest.config);
  const config = JSON.parse(new TextDecoder().decode(configData)) as ImageConfig;
  if (config.architecture !== platform.architecture || config.os !== platform.os) {
    throw new TypeError(
      `Cannot build on base image "${name}": it is ${config.os}/${config.architecture}, not ${platform.os}/${platform.architecture}`,
    );
  }
  return { name, digest: fetched.digest, manifest, config };
}

function hasExplicitRegistry(tag: string | undefined): boolean {
  if (!tag || !tag.includes("/")) return false;
  const first = tag.split("/")[0] ?? "";
  return first.includes(".") || first.includes(":") || first === "localhost";
}

function withFix(error: unknown, fix: string): unknown {
  if (!(error instanceof Error) || error instanceof TypeError) return error;
  error.message = `${error.message}; ${fix}`;
  return error;
}
