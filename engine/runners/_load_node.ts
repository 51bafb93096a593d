/**
 * Imports node modules, once per file version: the module URL carries the node's code hash
 * (`file:///…/x.ts?v=<hash>`), so a changed file is imported afresh while an unchanged one
 * costs a map lookup. Used inside sandbox workers and by the in-process runner.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import type { NodeFunction } from "./node_api.ts";

/** The URL a node module is imported from. */
export function moduleUrl(path: string, codeHash: string): string {
  const cached = urls.get(path);
  if (cached?.codeHash === codeHash) return cached.url;
  const url = `${pathToFileURL(path).href}?v=${encodeURIComponent(codeHash)}`;
  urls.set(path, { codeHash, url });
  return url;
}

/** Module path → its last URL: every call of a node asks for it (a file URL costs µs). */
const urls = new Map<string, { codeHash: string; url: string }>();

/** A node that cannot be loaded: retrying cannot help. */
export class NodeLoadError extends Error {
  override name = "NodeLoadError";
  readonly nonRetryable = true;
}

/** Caches node functions by module URL. */
export class NodeLoader {
  #modules = new Map<string, Promise<NodeFunction>>();
  /** Module path → the URL currently cached for it (older versions are dropped). */
  #current = new Map<string, string>();

  /**
   * The default export of the module at `url`.
   *
   * @throws {NodeLoadError} When the module cannot be imported or its default export is not
   * a function; the message names the node and the file.
   */
  load(url: string, file: string, nodeId: string): Promise<NodeFunction> {
    const cached = this.#modules.get(url);
    if (cached) return cached;
    const previous = this.#current.get(file);
    if (previous !== undefined) this.#modules.delete(previous);
    this.#current.set(file, url);
    const loading = import(url).then(
      (module: { default?: unknown }) => {
        if (typeof module.default !== "function") {
          throw new NodeLoadError(
            `Cannot run node "${nodeId}": "${file}" has no default export function; add ` +
              "`export default async function run(ctx, input) { … }`",
          );
        }
        return module.default as NodeFunction;
      },
      (error: unknown) => {
        const detail = error instanceof Error ? error.message : String(error);
        throw new NodeLoadError(`Cannot load node "${nodeId}" from "${file}": ${detail}`, {
          cause: error,
        });
      },
    );
    this.#modules.set(url, loading);
    loading.catch(() => {
      if (this.#modules.get(url) === loading) this.#modules.delete(url);
    });
    return loading;
  }
}
