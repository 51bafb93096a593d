/**
 * Bubblewrap for the image, the OS sandbox of command nodes: this host's `bwrap` at
 * /app/bin/bwrap with exactly the shared libraries it links (`ldd`) and their dynamic loader
 * in /app/lib/bwrap, the loader as `ld.so`. The engine starts it as
 * `/app/lib/bwrap/ld.so --library-path /app/lib/bwrap /app/bin/bwrap …` (IMAGE_BWRAP in
 * engine/runners/_command_sandbox.ts), so it depends on nothing in the base image.
 *
 * Whether bubblewrap can then create its namespaces depends on where the image runs: the
 * engine probes it at start-up and refuses command nodes, saying why, where it cannot.
 *
 * @module
 */

import { basename, delimiter, join } from "node:path";
import { IMAGE_BWRAP } from "../engine/mod.ts";
import type { TarEntry } from "./_tar.ts";

/** Bubblewrap's files for the image, or why there are none. */
export type ImageBwrap =
  | { entries: TarEntry[]; run: string[]; summary: string }
  | { entries: []; run: []; summary: string };

/** `bwrap` on PATH (sbin included), or undefined. */
function findBwrap(): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(delimiter), "/usr/bin", "/usr/sbin"];
  for (const dir of dirs.filter(Boolean)) {
    try {
      if (Deno.statSync(join(dir, "bwrap")).isFile) return join(dir, "bwrap");
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** The libraries and the loader `ldd` lists for `binary`. */
export function parseLdd(output: string): { libraries: string[]; loader?: string } {
  const libraries: string[] = [];
  let loader: string | undefined;
  for (const line of output.split("\n")) {
    const linked = /=>\s+(\/\S+)/.exec(line);
    if (linked) libraries.push(linked[1]!);
    else if (/^\s*(\/\S*ld-linux\S*)\s/.test(line)) loader = /^\s*(\/\S+)/.exec(line)![1];
  }
  return { libraries, loader };
}

/**
 * Collects bubblewrap for an image of `arch` built on this host; none (with the reason in
 * `summary`) when the host has no bwrap or is of another architecture.
 */
export async function imageBwrap(arch: string): Promise<ImageBwrap> {
  const hostArch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  const none = (why: string): ImageBwrap => ({
    entries: [],
    run: [],
    summary: `no bubblewrap in the image (${why}): command nodes will be refused there`,
  });
  if (arch !== hostArch) return none(`this ${hostArch} host has no linux/${arch} bwrap`);
  const bwrap = findBwrap();
  if (bwrap === undefined) {
    return none("bwrap is not installed on this host: apt-get install bubblewrap");
  }
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("ldd", { args: [bwrap], stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    return none(`ldd cannot run: ${(error as Error).message}`);
  }
  const { libraries, loader } = parseLdd(new TextDecoder().decode(output.stdout));
  if (!output.success || loader === undefined) {
    return none(`ldd ${bwrap} failed: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  const dir = IMAGE_BWRAP.libraryPath.slice(1);
  const entries: TarEntry[] = [
    {
      path: IMAGE_BWRAP.binary.slice(1),
      type: "file",
      mode: 0o755,
      data: await Deno.readFile(bwrap),
    },
    {
      path: IMAGE_BWRAP.loader.slice(1),
      type: "file",
      mode: 0o755,
      data: await Deno.readFile(await Deno.realPath(loader)),
    },
  ];
  for (const library of libraries) {
    entries.push({
      path: `${dir}/${basename(library)}`,
      type: "file",
      data: await Deno.readFile(await Deno.realPath(library)),
    });
  }
  return {
    entries,
    run: [IMAGE_BWRAP.loader],
    summary: `bubblewrap for command nodes: ${bwrap} with ${
      libraries.map((l) => basename(l)).join(", ")
    } and its loader`,
  };
}
