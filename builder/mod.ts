/**
 * The builder: ships a workflow without a Docker daemon. `bundleWorkflow()` makes the
 * deployable unit (self-contained JavaScript per node, workflow.yaml, manifest.json) that goes
 * into the code ConfigMap; `buildImage()` assembles the engine image from a base pulled through
 * the OCI distribution API and pushes it or writes an OCI layout; `writeDockerfile()` writes
 * the same image as a Dockerfile.
 *
 * @example
 * ```ts
 * import { buildImage } from "./mod.ts";
 * const result = await buildImage("examples/hello", { out: "dist/hello.oci" });
 * console.log(result.digest, result.bundle.inConfigMap);
 * ```
 *
 * @module
 */

export { buildImage, type BuildImageOptions, type BuildImageResult } from "./build_image.ts";
export {
  type BundleManifest,
  bundleWorkflow,
  type BundleWorkflowOptions,
  CONFIG_MAP_LIMIT,
  type WorkflowBundle,
  writeBundle,
} from "./bundle_workflow.ts";
export {
  DOCKER_CONTEXT_DIR,
  writeDockerfile,
  type WriteDockerfileOptions,
  type WriteDockerfileResult,
} from "./write_dockerfile.ts";
export { DEFAULT_BASE_IMAGE } from "./_prepare_build.ts";
export { type PlacedWorkflow, placeWorkflows, SUB_WORKFLOWS_DIR } from "./_sub_workflow_layout.ts";
export { BundlePlacement, NONROOT_USER, WORKFLOW_DIR } from "./_image_plan.ts";
export { BuildPlatform } from "./_oci.ts";
export { RegistryError } from "./_registry_client.ts";
export {
  type BuildProgress,
  createProgressRenderer,
  type ProgressCallback,
  type ProgressRendererOptions,
  TransferState,
} from "./_progress.ts";
