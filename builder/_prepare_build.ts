/**
 * The daemon-independent part of a build, shared by `buildImage()` and `writeDockerfile()`:
 * load the workflow, bundle it, decide where the bundle goes, collect the runtime and plan the
 * image config.
 *
 * @module
 */

import { loadWorkflow } from "../engine/mod.ts";
import type { CompiledWorkflow } from "../engine/mod.ts";
import { BundlePlacement, type ImagePlan, imageReference, planImage } from "./_image_plan.ts";
import { parsePlatform, type Platform } from "./_oci.ts";
import type { ProgressCallback } from "./_progress.ts";
import { prepareRuntime } from "./_runtime.ts";
import { sourceDateEpoch } from "./_tar.ts";
import { bundleWorkflow, type WorkflowBundle } from "./bundle_workflow.ts";

/** The default base image: distroless glibc with a non-root user. */
export const DEFAULT_BASE_IMAGE = "gcr.io/distroless/cc-debian12:nonroot";

/** Inputs shared by every build output. */
export interface PrepareOptions {
  tag?: string;
  registry?: string;
  platform?: string;
  base?: string;
  runtimeBinary?: string;
  bundle?: BundlePlacement;
  bundleOut?: string;
  sourceDateEpoch?: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** A prepared build. */
export interface PreparedBuild {
  workflow: CompiledWorkflow;
  bundle: WorkflowBundle;
  inImage: boolean;
  platform: Platform;
  baseName: string;
  created: number;
  plan: ImagePlan;
}

/** Loads, bundles and plans; see {@link PreparedBuild}. */
export async function prepareBuild(
  workflowDir: string,
  options: PrepareOptions,
): Promise<PreparedBuild> {
  const step = (message: string) => options.onProgress?.({ kind: "step", message });
  const platform = parsePlatform(options.platform ?? "linux/amd64");
  const workflow = await loadWorkflow(workflowDir);
  const reference = imageReference(workflow, options);

  step(`Bundling workflow ${workflow.name} ${workflow.version}`);
  const bundle = await bundleWorkflow(workflow, {
    outDir: options.bundleOut,
    signal: options.signal,
  });
  const placement = options.bundle ?? BundlePlacement.Auto;
  if (!(Object.values(BundlePlacement) as string[]).includes(placement)) {
    throw new TypeError(
      `Cannot place the workflow bundle "${placement}": use one of "auto", "image", "configmap"`,
    );
  }
  if (placement === BundlePlacement.ConfigMap && !bundle.fitsConfigMap) {
    throw new TypeError(
      `Cannot put the workflow bundle in a ConfigMap: it has ${bundle.bytes} bytes, more than 900 KiB; use --bundle image or auto`,
    );
  }
  const inImage = placement === BundlePlacement.Image ||
    (placement === BundlePlacement.Auto && !bundle.fitsConfigMap);
  step(
    inImage
      ? `Workflow bundle: ${bundle.bytes} bytes, ${
        bundle.fitsConfigMap ? "" : "too large for a ConfigMap (over 900 KiB), "
      }baked into the image at /app/workflow`
      : `Workflow bundle: ${bundle.bytes} bytes, goes into the code ConfigMap (mounted at /app/workflow)`,
  );

  step(`Preparing the runtime for ${platform.os}/${platform.architecture}`);
  const runtime = await prepareRuntime({
    platform,
    runtimeBinary: options.runtimeBinary,
    run: runExecutables(workflow),
    signal: options.signal,
  });
  for (const note of runtime.notes) step(note);
  const created = options.sourceDateEpoch ?? sourceDateEpoch();
  const baseName = options.base ?? DEFAULT_BASE_IMAGE;
  const plan = planImage(workflow, {
    reference,
    platform,
    runtime,
    bundle,
    bundleInImage: inImage,
    baseName,
    created,
  });
  return { workflow, bundle, inImage, platform, baseName, created, plan };
}

/** Every executable a command node may run: the engine process must be allowed to run them. */
function runExecutables(workflow: CompiledWorkflow): string[] {
  // Sub-workflows run in the same engine process: their command nodes count too.
  const nodes = [workflow, ...Object.values(workflow.subWorkflows ?? {})].flatMap((w) => [
    ...Object.values(w.nodes),
    ...(w.onError ? [w.onError] : []),
  ]);
  return [...new Set(nodes.flatMap((node) => node.capabilities.run))].sort();
}
