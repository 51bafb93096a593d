/**
 * What the compiler and the loader agree on about node files: which files a node uses, how its
 * code is hashed, and whether a module has a default export.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { isAbsolute, relative, resolve } from "node:path";

/** sha256 of a text, as lowercase hex. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Absolute paths of the argv entries of a command that name a relative file (`./x`, `../x`). */
export function commandFileArgs(command: readonly string[], dir: string): string[] {
  return command.filter((arg) => arg.startsWith("./") || arg.startsWith("../")).map((arg) =>
    resolve(dir, arg)
  );
}

/**
 * Code hash of a command node: its argv plus the content of every file argument that exists,
 * named relative to `dir` (the same code hashes the same wherever the directory is, e.g. in
 * the code snapshots of `dev` and `serve`).
 */
export function commandCodeHash(
  command: readonly string[],
  dir: string,
  sources: ReadonlyMap<string, string>,
): string {
  const hash = createHash("sha256").update(JSON.stringify(command));
  for (const [i, path] of commandFileArgs(command, dir).entries()) {
    const content = sources.get(path);
    const rel = relative(dir, path);
    if (content !== undefined) hash.update(`\0${i}\0${rel.length}\0${rel}\0${content}`);
  }
  return hash.digest("hex");
}

/** Module files a node may be: TypeScript or JavaScript. */
export const MODULE_EXTENSION = /\.(ts|mts|tsx|js|mjs|jsx)$/;

/** True when a module's text has a default export (`export default …` or `export { x as default }`). */
export function hasDefaultExport(content: string): boolean {
  return /\bexport\s+default\b/.test(content) ||
    /\bexport\s*\{[^}]*\bdefault\b[^}]*\}/.test(content);
}

/**
 * `path` resolved against `dir`, with its path relative to `dir` (or undefined when it is
 * outside). A plain `./a/b.ts` is joined directly: node:path is slow for 10,000 nodes.
 */
export function resolveInside(dir: string, path: string): { absolute: string; rel?: string } {
  const plain = path.startsWith("./") ? path.slice(2) : path;
  if (
    plain !== "" && !plain.startsWith("/") && !/(^|\/)\.\.?(\/|$)|\/\/|\\/.test(plain) &&
    !dir.endsWith("/")
  ) {
    return { absolute: `${dir}/${plain}`, rel: plain };
  }
  const absolute = resolve(dir, path);
  return isInside(dir, absolute) ? { absolute, rel: relative(dir, absolute) } : { absolute };
}

/** True when `path` is `dir` itself or below it. */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel));
}
