/**
 * Per-run temp dirs under one runner-owned base directory (the directory sandboxes may write),
 * with empty dirs given back kept for later runs instead of being removed and made again.
 *
 * @module
 */

/** Empty per-run temp dirs kept for later runs. */
const MAX_SPARE_DIRS = 32;

function isInside(path: string, dir: string): boolean {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
}

/** Whether `dir` has no entry (a missing dir counts as not empty: it is not reused). */
function isEmptyDir(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return false;
    return true;
  } catch {
    return false;
  }
}

/** The per-run temp dirs of one runner. */
export class TmpDirs {
  #base: string | undefined;
  #ready?: Promise<string>;
  #owned = false;
  #spare: string[] = [];

  /** @param base the base directory; undefined: a new temp dir made on first use. */
  constructor(base?: string) {
    this.#base = base;
  }

  /** The base directory, once known. */
  get base(): string | undefined {
    return this.#base;
  }

  /** A new (or reused, empty) temp dir for a run. */
  async make(runId: string): Promise<string> {
    const spare = this.#spare.pop();
    if (spare !== undefined) return spare;
    this.#ready ??= (async () => {
      if (this.#base !== undefined) {
        await Deno.mkdir(this.#base, { recursive: true });
        return this.#base;
      }
      this.#owned = true;
      this.#base = await Deno.makeTempDir({ prefix: "pipedreamer-runs-" });
      return this.#base;
    })();
    const dir = await this.#ready;
    const prefix = `${runId.replace(/[^\w.-]/g, "_").slice(0, 64)}-`;
    return await Deno.makeTempDir({ dir, prefix });
  }

  /** Gives a run's dir back: kept when empty (and room is left), else removed. */
  async release(dir: string, closed: boolean): Promise<void> {
    const base = this.#base;
    const reusable = !closed && base !== undefined && dir !== base && isInside(dir, base) &&
      this.#spare.length < MAX_SPARE_DIRS && isEmptyDir(dir);
    if (reusable) this.#spare.push(dir);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  /** Forgets the spare dirs and removes the base when this owns it. */
  async close(): Promise<void> {
    this.#spare.length = 0;
    if (this.#owned && this.#base !== undefined) {
      await Deno.remove(this.#base, { recursive: true }).catch(() => {});
    }
  }
}
