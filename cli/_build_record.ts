/**
 * What `build --push` pushed, remembered in the workflow's `.pipedreamer/build.json` so that
 * `deploy` pins the image by its digest (`<image>@sha256:…`, pulled `IfNotPresent`) instead of
 * a tag that may move.
 *
 * @module
 */

import { join } from "node:path";

/** The last pushed image of a workflow. */
export interface BuildRecord {
  /** As pushed, with its tag: `ghcr.io/acme/hello:1.0.0`. */
  image: string;
  /** `sha256:…` of the pushed manifest. */
  digest: string;
  version: string;
}

function recordPath(dir: string): string {
  return join(dir, ".pipedreamer", "build.json");
}

/** Remembers a push. */
export async function writeBuildRecord(dir: string, record: BuildRecord): Promise<void> {
  await Deno.mkdir(join(dir, ".pipedreamer"), { recursive: true });
  await Deno.writeTextFile(recordPath(dir), `${JSON.stringify(record, null, 2)}\n`);
}

/** The last push, or undefined when there is none (or it is unreadable). */
export async function readBuildRecord(dir: string): Promise<BuildRecord | undefined> {
  try {
    const r = JSON.parse(await Deno.readTextFile(recordPath(dir))) as Partial<BuildRecord>;
    if (
      typeof r.image === "string" && typeof r.version === "string" &&
      typeof r.digest === "string" && /^sha256:[0-9a-f]{64}$/.test(r.digest)
    ) {
      return { image: r.image, digest: r.digest, version: r.version };
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) && !(error instanceof SyntaxError)) throw error;
  }
  return undefined;
}

/**
 * The image deploy should use: `image@digest` when the last push of this version was exactly
 * `image` (a tag, no digest yet), else `image` unchanged.
 */
export function pinByDigest(
  image: string,
  version: string,
  record: BuildRecord | undefined,
): string {
  if (!record || image.includes("@") || record.version !== version) return image;
  return record.image === image ? `${image}@${record.digest}` : image;
}
