/**
 * Immutable copies of a workflow's code for `dev` and `serve`. Each loaded version is copied,
 * content-addressed, to `<dataDir>/code/<hash>/` and compiled from there, so every run executes
 * the files of the version it started with, even when it reaches a node after an edit (dev
 * reload) or the directory changes under a running server.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { dirname, join, relative, resolve, sep } from "node:path";
import { type CompiledWorkflow, loadWorkflow, withSubWorkflowHashes } from "../engine/mod.ts";

/** Options of {@link CodeSnapshots}. */
export interface CodeSnapshotsOptions {
  /** Snapshots kept by `prune()` besides those in use, newest first. @default 3 */
  keep?: number;
  /** Absolute paths never copied (the data dir when it is inside the workflow). @default [] */
  exclude?: readonly string[];
}

/** A file of the workflow directory: where it is, where it goes, whether it is executable. */
interface SourceFile {
  path: string;
  rel: string;
  executable: boolean;
}

/** Hex digits of a snapshot's name (96 bits of sha256). */
const NAME_LENGTH = 24;
const SNAPSHOT_NAME = new RegExp(`^[0-9a-f]{${NAME_LENGTH}}$`);

/**
 * Entries never copied: version control, the run store, dependencies, local secrets (they are
 * read from the real directory) and Kubernetes' volume internals (`..data`, `..2024_…`).
 */
function skipped(name: string): boolean {
  return name === ".git" || name === ".pipedreamer" || name === "node_modules" ||
    name.startsWith(".secrets") || name.startsWith("..");
}

/**
 * Content-addressed code snapshots under one directory. `load()` and `prune()` run one at a
 * time, so a prune never removes a snapshot that a load is handing out.
 *
 * @example
 * ```ts
 * import { CodeSnapshots } from "./_code_snapshots.ts";
 * const snapshots = new CodeSnapshots(".pipedreamer/code");
 * const workflow = await snapshots.load("examples/hello-world");
 * console.log(workflow.dir); // …/.pipedreamer/code/<hash>
 * await snapshots.prune([workflow.dir]);
 * ```
 */
export class CodeSnapshots {
  readonly root: string;
  readonly #keep: number;
  readonly #exclude: Set<string>;
  #chain: Promise<unknown> = Promise.resolve();

  /** @throws {RangeError} when keep is not a non-negative integer */
  constructor(root: string, options: CodeSnapshotsOptions = {}) {
    this.root = resolve(root);
    this.#keep = options.keep ?? 3;
    if (!Number.isSafeInteger(this.#keep) || this.#keep < 0) {
      throw new RangeError(`Cannot keep ${this.#keep} code snapshots: expected an integer >= 0`);
    }
    this.#exclude = new Set([this.root, ...(options.exclude ?? []).map((p) => resolve(p))]);
  }

  /**
   * Loads the workflow at `path` (a directory or its workflow file): validated where it is (so
   * errors name the real files and a broken version leaves no snapshot), then copied to its
   * snapshot (reused when the content is already there) and compiled from the copy.
   *
   * @throws {WorkflowSyntaxError} when the workflow does not load
   * @throws {Error} "Cannot copy the workflow code …" when the snapshot cannot be written
   */
  load(path: string): Promise<CompiledWorkflow> {
    return this.#serial(async () => this.#snapshotOf(await loadWorkflow(path)));
  }

  /**
   * Copies the code of an already loaded `workflow` to its snapshot and compiles it from there.
   * @throws {WorkflowSyntaxError} when the copy does not compile (it changed after `workflow` loaded)
   * @throws {Error} "Cannot copy the workflow code …" when the snapshot cannot be written
   */
  snapshot(workflow: CompiledWorkflow): Promise<CompiledWorkflow> {
    return this.#serial(() => this.#snapshotOf(workflow));
  }

  /**
   * Removes the snapshots that are neither in `inUse` (snapshot directories of workflows still
   * running or waiting) nor among the `keep` most recently loaded ones.
   * @returns the names of the removed snapshots
   */
  prune(inUse: Iterable<string>): Promise<string[]> {
    const used = new Set([...inUse].map((dir) => resolve(dir)));
    return this.#serial(async () => {
      const snapshots: { name: string; mtime: number }[] = [];
      try {
        for await (const entry of Deno.readDir(this.root)) {
          if (!entry.isDirectory || !SNAPSHOT_NAME.test(entry.name)) continue;
          const info = await Deno.stat(join(this.root, entry.name));
          snapshots.push({ name: entry.name, mtime: info.mtime?.getTime() ?? 0 });
        }
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return [];
        throw error;
      }
      snapshots.sort((a, b) => b.mtime - a.mtime || a.name.localeCompare(b.name));
      const removed: string[] = [];
      for (const [i, { name }] of snapshots.entries()) {
        if (i < this.#keep || used.has(join(this.root, name))) continue;
        await Deno.remove(join(this.root, name), { recursive: true });
        removed.push(name);
      }
      return removed;
    });
  }

  #serial<T>(body: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(body);
    this.#chain = result.catch(() => {});
    return result;
  }

  async #snapshotOf(workflow: CompiledWorkflow): Promise<CompiledWorkflow> {
    let dir: string;
    try {
      dir = await this.#copy(workflow.dir);
    } catch (error) {
      throw new Error(
        `Cannot copy the workflow code to "${this.root}": ${
          error instanceof Error ? error.message : error
        }; pass --data <a writable directory>`,
        { cause: error },
      );
    }
    const copy = await loadWorkflow(dir, {
      file: relative(workflow.dir, workflow.file),
      skipSubWorkflows: workflow.subWorkflows !== undefined,
    });
    if (workflow.subWorkflows) {
      // Sub-workflows are not copied: workflow: paths keep pointing at the loaded children.
      for (const node of Object.values(copy.nodes)) {
        if (node.workflow) node.workflow = resolve(workflow.dir, relative(dir, node.workflow));
      }
      copy.subWorkflows = workflow.subWorkflows;
      copy.codeHash = withSubWorkflowHashes(copy.codeHash, workflow.subWorkflows);
    }
    return copy;
  }

  /** The snapshot of `source` (made when missing), marked as the most recently used. */
  async #copy(source: string): Promise<string> {
    const files = await this.#list(source);
    let name = await hashFiles(files);
    let target = join(this.root, name);
    if (!(await isDirectory(target))) {
      await Deno.mkdir(this.root, { recursive: true });
      const temp = join(this.root, `.tmp-${crypto.randomUUID()}`);
      try {
        // The name is the hash of what was written: a file edited since the hash pass
        // names another snapshot instead of corrupting this one.
        name = await copyFiles(files, temp);
        target = join(this.root, name);
        try {
          await Deno.rename(temp, target);
        } catch (error) {
          if (!(await isDirectory(target))) throw error;
        }
      } finally {
        await Deno.remove(temp, { recursive: true }).catch(() => {});
      }
    }
    const now = new Date();
    await Deno.utime(target, now, now);
    return target;
  }

  /** Every file to copy, sorted by relative path; symlinks are followed (once per directory). */
  async #list(source: string): Promise<SourceFile[]> {
    const files: SourceFile[] = [];
    const seen = new Set<string>();
    const walk = async (dir: string, rel: string): Promise<void> => {
      const real = await Deno.realPath(dir);
      if (seen.has(real)) return;
      seen.add(real);
      for await (const entry of Deno.readDir(dir)) {
        const path = join(dir, entry.name);
        if (skipped(entry.name) || this.#exclude.has(path)) continue;
        let info: Deno.FileInfo;
        try {
          info = await Deno.stat(path);
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) continue; // a dangling link, or just deleted
          throw error;
        }
        const entryRel = rel === "" ? entry.name : `${rel}${sep}${entry.name}`;
        if (info.isDirectory) await walk(path, entryRel);
        else if (info.isFile) {
          files.push({ path, rel: entryRel, executable: ((info.mode ?? 0) & 0o111) !== 0 });
        }
      }
    };
    await walk(resolve(source), "");
    return files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  }
}

function update(hash: Hash, file: SourceFile, bytes: Uint8Array): void {
  hash.update(`${file.rel}\0${file.executable ? 1 : 0}\0${bytes.length}\0`).update(bytes);
}

/** The snapshot name of `files` as they are now. */
async function hashFiles(files: readonly SourceFile[]): Promise<string> {
  const hash = createHash("sha256");
  for (const file of files) update(hash, file, await readOrEmpty(file.path));
  return hash.digest("hex").slice(0, NAME_LENGTH);
}

/** Copies `files` below `to` and returns the snapshot name of what was written. */
async function copyFiles(files: readonly SourceFile[], to: string): Promise<string> {
  const hash = createHash("sha256");
  const dirs = new Set<string>();
  for (const file of files) {
    const bytes = await readOrEmpty(file.path);
    const target = join(to, file.rel);
    const parent = dirname(target);
    if (!dirs.has(parent)) {
      await Deno.mkdir(parent, { recursive: true });
      dirs.add(parent);
    }
    await Deno.writeFile(target, bytes, { mode: file.executable ? 0o755 : 0o644 });
    update(hash, file, bytes);
  }
  return hash.digest("hex").slice(0, NAME_LENGTH);
}

/** A file deleted while it is copied counts as empty (the next reload sees it gone). */
async function readOrEmpty(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Uint8Array();
    throw error;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
