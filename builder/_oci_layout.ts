/**
 * Writes an image as an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * a directory with `oci-layout`, `index.json` and `blobs/sha256/…`, or the same files as one
 * reproducible tar archive (what `skopeo copy oci-archive:…` and `podman load` read).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { digestHex } from "./_digest.ts";
import { canonicalJson, type Descriptor } from "./_oci.ts";
import { createTar, type TarEntry } from "./_tar.ts";

/** A blob with its content. */
export interface ContentBlob {
  descriptor: Descriptor;
  data: Uint8Array;
}

/** A complete single-platform image: its manifest, config and layers. */
export interface ImageBlobs {
  manifest: ContentBlob;
  config: ContentBlob;
  layers: ContentBlob[];
}

/** Options of {@link writeOciLayout}. */
export interface OciLayoutOptions {
  /** Value of the `org.opencontainers.image.ref.name` annotation (e.g. `1.0.0`). */
  refName?: string;
  /** mtime of archive entries. @default 0 */
  mtime?: number;
}

const LAYOUT_FILE = new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: "1.0.0" }));

/**
 * Writes `image` to `dest`: an OCI layout directory, or an archive when `dest` ends in `.tar`.
 * An existing directory must be empty or already an OCI layout (its `index.json` is replaced).
 *
 * @throws {TypeError} when `dest` is a non-empty directory that is not an OCI layout
 * @example
 * ```ts
 * await writeOciLayout("dist/hello.oci", image, { refName: "1.0.0" });
 * ```
 */
export async function writeOciLayout(
  dest: string,
  image: ImageBlobs,
  options: OciLayoutOptions = {},
): Promise<void> {
  const files = layoutFiles(image, options);
  if (dest.endsWith(".tar")) {
    const entries: TarEntry[] = [...files].map(([path, data]) => ({ path, type: "file", data }));
    await Deno.mkdir(dirname(dest), { recursive: true });
    await Deno.writeFile(dest, createTar(entries, { mtime: options.mtime ?? 0 }));
    return;
  }
  await assertWritableLayout(dest);
  for (const [path, data] of files) {
    const target = join(dest, path);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeFile(target, data);
  }
}

function layoutFiles(image: ImageBlobs, options: OciLayoutOptions): Map<string, Uint8Array> {
  const manifest: Descriptor = { ...image.manifest.descriptor };
  if (options.refName) {
    manifest.annotations = { "org.opencontainers.image.ref.name": options.refName };
  }
  const index = { schemaVersion: 2, manifests: [manifest] };
  const files = new Map<string, Uint8Array>([
    ["oci-layout", LAYOUT_FILE],
    ["index.json", canonicalJson(index)],
  ]);
  for (const blob of [image.manifest, image.config, ...image.layers]) {
    files.set(`blobs/sha256/${digestHex(blob.descriptor.digest)}`, blob.data);
  }
  return files;
}

async function assertWritableLayout(dir: string): Promise<void> {
  let names: string[];
  try {
    names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (names.length > 0 && !names.includes("oci-layout")) {
    throw new TypeError(
      `Cannot write an OCI layout to "${dir}": the directory is not empty and not an OCI layout; choose a new directory`,
    );
  }
}
