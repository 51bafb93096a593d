/**
 * Runtime config overlay: the directory where Kubernetes mounts the `<name>-config` ConfigMap
 * (`/app/config`). Its values are merged over the workflow's `config:` (as `ctx.config`) without
 * a rebuild.
 *
 * Layout: `config.yaml`, `config.yml` or `config.json` holds a map; every other file is one
 * key (a ConfigMap mounts each key as a file): `key.json`, `key.yaml`, `key.yml` are parsed,
 * a plain `key` file is JSON when its text parses as JSON (`3`, `true`, `["a"]`), else its text
 * without the trailing newline. Per-key files win over the map. Entries starting with "." are
 * skipped (the `..data` links of a ConfigMap volume); symlinks are followed.
 *
 * @module
 */

import { join } from "node:path";
import { parse } from "yaml";

const MAP_FILES = ["config.yaml", "config.yml", "config.json"];

function fail(detail: string, cause?: unknown): Error {
  return new Error(`Cannot load config overlay: ${detail}`, cause === undefined ? {} : { cause });
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseFile(path: string, text: string): unknown {
  try {
    if (path.endsWith(".json")) return JSON.parse(text);
    if (/\.ya?ml$/.test(path)) return parse(text, { logLevel: "error" });
  } catch (error) {
    const format = path.endsWith(".json") ? "JSON" : "YAML";
    throw fail(`"${path}" is not valid ${format}: ${(error as Error).message}`, error);
  }
  const plain = text.replace(/[\r\n]+$/, "");
  try {
    return JSON.parse(plain);
  } catch {
    return plain;
  }
}

/**
 * Reads the overlay in `dir`; undefined when the directory does not exist.
 *
 * @throws {Error} "Cannot load config overlay: …" naming the file, for unreadable or invalid
 *   files, or a config.yaml that is not a map
 * @example
 * ```ts
 * import { loadConfigOverlay } from "./_config_overlay.ts";
 * const overlay = await loadConfigOverlay("/app/config"); // { endpoints: [...] } or undefined
 * ```
 */
export async function loadConfigOverlay(
  dir: string,
): Promise<Record<string, unknown> | undefined> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw fail(`cannot read "${dir}": ${(error as Error).message}`, error);
  }
  names.sort();
  const overlay: Record<string, unknown> = {};
  const keys: Record<string, unknown> = {};
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      if (!(await Deno.stat(path)).isFile) continue;
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw fail(`cannot read "${path}": ${(error as Error).message}`, error);
    }
    const value = parseFile(path, text);
    if (MAP_FILES.includes(name)) {
      if (value === null || value === undefined) continue;
      if (!isMap(value)) throw fail(`"${path}" must hold a map of config keys`);
      Object.assign(overlay, value);
    } else {
      keys[name.replace(/\.(json|ya?ml)$/, "")] = value;
    }
  }
  return Object.assign(overlay, keys);
}
