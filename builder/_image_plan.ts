/**
 * What goes into a workflow's engine image, independent of how it is assembled: the image
 * name, the runtime, whether the workflow bundle is baked in, and the config (user,
 * entrypoint, command, environment, labels). build_image.ts turns a plan into OCI blobs and
 * write_dockerfile.ts into a Dockerfile, so both always describe the same image.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import type { CompiledWorkflow } from "../engine/mod.ts";
import type { WorkflowBundle } from "./bundle_workflow.ts";
import { type ImageReference, parseImageReference } from "./_image_reference.ts";
import { type Platform, rfc3339 } from "./_oci.ts";
import type { Runtime } from "./_runtime.ts";

/** Where the workflow bundle lives at runtime. */
export const BundlePlacement = {
  /** ConfigMap when it fits, else the image. */
  Auto: "auto",
  Image: "image",
  ConfigMap: "configmap",
} as const;
/** One of {@link BundlePlacement}. */
export type BundlePlacement = typeof BundlePlacement[keyof typeof BundlePlacement];

/** The distroless user the engine runs as. */
export const NONROOT_USER = "65532:65532";
/** Where the workflow bundle is mounted (ConfigMap) or baked (image). */
export const WORKFLOW_DIR = "/app/workflow";

/** A complete description of one image. */
export interface ImagePlan {
  reference: ImageReference;
  platform: Platform;
  runtime: Runtime;
  /** The bundle, when it is baked into the image. */
  bundleInImage?: WorkflowBundle;
  user: string;
  entrypoint: string[];
  cmd: string[];
  /** `NAME=value` entries added to (and overriding) the base image's. */
  env: string[];
  workingDir: string;
  labels: Record<string, string>;
}

/**
 * The image reference: `tag` (default `<workflow>:<version>`; a tag-less name gets the
 * version), under `registry` unless the name already has one.
 *
 * @throws {TypeError} when the name is not a valid reference or the registry is given as an
 * `http://` URL
 */
export function imageReference(
  workflow: CompiledWorkflow,
  options: { tag?: string; registry?: string },
): ImageReference {
  let name = options.tag ?? `${workflow.name}:${workflow.version}`;
  const lastSegment = name.slice(name.lastIndexOf("/") + 1);
  if (!lastSegment.includes(":") && !name.includes("@")) {
    name = `${name}:${workflow.version.replaceAll("+", "_")}`;
  }
  const registry = options.registry?.replace(/^https:\/\//, "").replace(/\/+$/, "");
  if (registry?.startsWith("http://")) {
    throw new TypeError(
      `Cannot use registry "${options.registry}": give it without a scheme and pass --insecure-registry for a plain-HTTP loopback registry`,
    );
  }
  const first = name.split("/")[0] ?? "";
  const named = name.includes("/") &&
    (first.includes(".") || first.includes(":") || first === "localhost");
  return parseImageReference(registry && !named ? `${registry}/${name}` : name);
}

/** Options of {@link planImage}. */
export interface PlanOptions {
  reference: ImageReference;
  platform: Platform;
  runtime: Runtime;
  bundle: WorkflowBundle;
  bundleInImage: boolean;
  baseName: string;
  /** Build time in seconds since the epoch. */
  created: number;
}

/** Builds the plan: config, labels and environment are pure functions of the inputs. */
export function planImage(workflow: CompiledWorkflow, options: PlanOptions): ImagePlan {
  const labels: Record<string, string> = {
    "org.opencontainers.image.title": workflow.name,
    "org.opencontainers.image.version": workflow.version,
    "org.opencontainers.image.created": rfc3339(options.created),
    "org.opencontainers.image.base.name": options.baseName,
    "io.pipedreamer.workflow.name": workflow.name,
    "io.pipedreamer.workflow.version": workflow.version,
    "io.pipedreamer.workflow.code-hash": workflow.codeHash,
    "io.pipedreamer.bundle": options.bundleInImage ? "image" : "configmap",
    "io.pipedreamer.runtime": options.runtime.kind,
    "io.pipedreamer.version": denoJson.version,
  };
  if (workflow.description) labels["org.opencontainers.image.description"] = workflow.description;
  return {
    reference: options.reference,
    platform: options.platform,
    runtime: options.runtime,
    bundleInImage: options.bundleInImage ? options.bundle : undefined,
    user: NONROOT_USER,
    entrypoint: options.runtime.entrypoint,
    cmd: ["serve", WORKFLOW_DIR],
    // No secrets, ever: only where deno may cache and that it must not phone home.
    env: ["DENO_DIR=/tmp/.deno", "DENO_NO_UPDATE_CHECK=1", "NO_COLOR=1"],
    // The only writable place of the read-only root (an emptyDir in the pod).
    workingDir: "/tmp",
    labels,
  };
}

/** Base env with the plan's entries replacing same-named ones, in a stable order. */
export function mergeEnv(base: string[] | undefined, extra: string[]): string[] {
  const env = new Map<string, string>();
  for (const entry of [...(base ?? []), ...extra]) {
    const eq = entry.indexOf("=");
    env.set(eq < 0 ? entry : entry.slice(0, eq), entry);
  }
  return [...env.values()];
}
