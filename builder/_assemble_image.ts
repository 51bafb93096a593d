/**
 * Turns an {@link ImagePlan} and a base image into OCI blobs: the runtime layer, the optional
 * workflow layer, the config (base config + plan) and the manifest. Every byte is a function
 * of the inputs (fixed mtimes, sorted entries and JSON keys), so digests are reproducible.
 *
 * @module
 */

import { digestOf } from "./_digest.ts";
import { type ImagePlan, mergeEnv, WORKFLOW_DIR } from "./_image_plan.ts";
import {
  canonicalJson,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  MediaType,
  ociLayerMediaType,
  rfc3339,
} from "./_oci.ts";
import type { ContentBlob } from "./_oci_layout.ts";
import { createTar, gzip, type TarEntry } from "./_tar.ts";

/** The base image as pulled. */
export interface BaseImage {
  name: string;
  digest: string;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** The assembled image: base layers are referenced, own layers carried. */
export interface AssembledImage {
  manifest: ContentBlob;
  config: ContentBlob;
  baseLayers: Descriptor[];
  ownLayers: (ContentBlob & { role: "runtime" | "workflow" })[];
}

/** Builds the layers, config and manifest of `plan` on top of `base`. */
export async function assembleImage(
  plan: ImagePlan,
  base: BaseImage,
  created: number,
): Promise<AssembledImage> {
  const createdIso = rfc3339(created);
  const layers: { role: "runtime" | "workflow"; entries: TarEntry[]; comment: string }[] = [{
    role: "runtime",
    entries: [...plan.runtime.entries, { path: "tmp", type: "directory", mode: 0o1777 }],
    comment: `pipedreamer runtime (${plan.runtime.kind})`,
  }];
  if (plan.bundleInImage) {
    const bundle = plan.bundleInImage;
    layers.push({
      role: "workflow",
      entries: Object.entries(bundle.files).map(([name, data]) => ({
        path: `${WORKFLOW_DIR.slice(1)}/${name}`,
        type: "file",
        mode: bundle.modes[name] ?? 0o644,
        data,
      })),
      comment: `workflow bundle ${bundle.manifest.name} ${bundle.manifest.version}`,
    });
  }

  const ownLayers: AssembledImage["ownLayers"] = [];
  const diffIds: string[] = [];
  for (const layer of layers) {
    const tar = createTar(layer.entries, { mtime: created });
    diffIds.push(await digestOf(tar));
    const data = gzip(tar);
    ownLayers.push({
      role: layer.role,
      descriptor: {
        mediaType: MediaType.OciLayerGzip,
        digest: await digestOf(data),
        size: data.length,
      },
      data,
    });
  }

  const baseRun = base.config.config ?? {};
  const config: ImageConfig = {
    ...base.config,
    created: createdIso,
    architecture: plan.platform.architecture,
    os: plan.platform.os,
    config: {
      ...baseRun,
      User: plan.user,
      Env: mergeEnv(baseRun.Env, plan.env),
      Entrypoint: plan.entrypoint,
      Cmd: plan.cmd,
      WorkingDir: plan.workingDir,
      Labels: { ...(baseRun.Labels ?? {}), ...plan.labels },
    },
    rootfs: { type: "layers", diff_ids: [...base.config.rootfs.diff_ids, ...diffIds] },
    history: [
      ...(base.config.history ?? []),
      ...layers.map((layer) => ({
        created: createdIso,
        created_by: "pipedreamer build",
        comment: layer.comment,
      })),
    ],
  };
  const configData = canonicalJson(config);
  const configBlob: ContentBlob = {
    descriptor: {
      mediaType: MediaType.OciConfig,
      digest: await digestOf(configData),
      size: configData.length,
    },
    data: configData,
  };
  const baseLayers = base.manifest.layers.map((layer) => ({
    mediaType: ociLayerMediaType(layer.mediaType),
    digest: layer.digest,
    size: layer.size,
  }));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: configBlob.descriptor,
    layers: [...baseLayers, ...ownLayers.map((l) => l.descriptor)],
    annotations: {
      "org.opencontainers.image.base.name": base.name,
      "org.opencontainers.image.base.digest": base.digest,
    },
  };
  const manifestData = canonicalJson(manifest);
  return {
    manifest: {
      descriptor: {
        mediaType: MediaType.OciManifest,
        digest: await digestOf(manifestData),
        size: manifestData.length,
      },
      data: manifestData,
    },
    config: configBlob,
    baseLayers,
    ownLayers,
  };
}
