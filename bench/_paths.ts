/**
 * Paths and small process helpers of the benchmarks.
 *
 * @module
 */

import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

/** The repository root (bench/..). */
export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** The bench directory. */
export const BENCH_DIR = join(REPO_ROOT, "bench");

/** `file:` URL of an absolute path. */
export function toFileUrl(path: string): string {
  return pathToFileURL(path).href;
}

/** The resident set size of process `pid` in bytes, from /proc/<pid>/status (VmRSS). */
export async function rssOf(pid: number | "self"): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`Cannot read the RSS of process ${pid}: no VmRSS line`);
  return Number(match[1]) * 1024;
}

/** Whether an executable is on PATH. */
export async function which(command: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = join(dir, command);
    try {
      const info = await Deno.stat(path);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
