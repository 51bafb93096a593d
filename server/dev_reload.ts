/**
 * `dev`'s hot reload: watches a workflow directory and, once edits settle, loads the workflow
 * again and type-checks its node files and edges (engine typecheckWorkflow()). A valid result is
 * handed over (new runs use it); a broken one — including a type error — is reported and the
 * last good version keeps serving.
 *
 * @module
 */

import { isAbsolute, relative, resolve, sep } from "node:path";
import {
  type Clock,
  type CompiledWorkflow,
  loadWorkflow,
  systemClock,
  typecheckWorkflow,
  type WorkflowIssue,
  WorkflowSyntaxError,
} from "../engine/mod.ts";

/** A file system watcher as `Deno.watchFs` returns it. */
export interface FsWatcherLike extends AsyncIterable<{ paths: string[] }> {
  close(): void;
}

/** Options of {@link devReload}. */
export interface DevReloadOptions {
  /**
   * The version being served: a load with the same code hash and directory is not a reload
   * (a `load` that snapshots the code gives each content its own directory).
   */
  current: CompiledWorkflow;
  /** Receives each new valid version. */
  onReload: (workflow: CompiledWorkflow) => void;
  /** Receives load failures (a WorkflowSyntaxError for a broken edit). */
  onError: (error: unknown) => void;
  /** Quiet time after the last change before loading. @default 150 */
  debounceMs?: number;
  /** Time source of the debounce. @default systemClock */
  clock?: Clock;
  /** Starts the watcher. @default (dir) => Deno.watchFs(dir, { recursive: true }) */
  watch?: (dir: string) => FsWatcherLike;
  /** Loads the workflow (e.g. from a snapshot of the directory). @default loadWorkflow */
  load?: (dir: string) => Promise<CompiledWorkflow>;
  /** Type-checks a loaded version; issues make it a broken edit. @default typecheckWorkflow */
  check?: (workflow: CompiledWorkflow) => Promise<WorkflowIssue[]>;
}

/** A running watcher. */
export interface DevReloader {
  /** Stops watching and waits for a reload in progress. Idempotent. */
  close(): Promise<void>;
}

/**
 * Files of the workflow outside nodes/ that its nodes name (a `path:` or a command's script),
 * as paths below `root` (the workflow may have been compiled from a copy of it).
 */
function namedFiles(workflow: CompiledWorkflow, root: string): Set<string> {
  const files = new Set<string>();
  const add = (path: string) => {
    const rel = relative(workflow.dir, resolve(path));
    files.add(rel.startsWith("..") || isAbsolute(rel) ? resolve(path) : resolve(root, rel));
  };
  for (const node of [...Object.values(workflow.nodes), workflow.onError]) {
    if (node?.path) add(node.path);
    for (const arg of node?.command ?? []) {
      if (arg.startsWith(".") || isAbsolute(arg)) add(resolve(workflow.dir, arg));
    }
  }
  return files;
}

/**
 * Watches `dir` (recursively) and reloads the workflow `debounceMs` after the last change to
 * workflow.yaml, anything under nodes/, or a file a node names. Hidden entries (`.pipedreamer/`
 * with the run store, `.git/`, editor swap files) never trigger a reload. Reloads run one at a
 * time; a change during a reload schedules another.
 *
 * @throws {Deno.errors.NotFound} when `dir` does not exist (from the default watcher)
 * @example
 * ```ts
 * import { devReload } from "./dev_reload.ts";
 * import { loadWorkflow } from "../engine/mod.ts";
 * const current = await loadWorkflow("examples/hello-world");
 * const reloader = devReload("examples/hello-world", {
 *   current,
 *   onReload: (workflow) => console.log(`reloaded ${workflow.codeHash}`),
 *   onError: (error) => console.error(error),
 * });
 * await reloader.close();
 * ```
 */
export function devReload(dir: string, options: DevReloadOptions): DevReloader {
  const root = resolve(dir);
  const clock = options.clock ?? systemClock;
  const debounceMs = options.debounceMs ?? 150;
  const load = options.load ?? loadWorkflow;
  const check = options.check ?? ((workflow: CompiledWorkflow) => typecheckWorkflow(workflow));
  const watcher = (options.watch ?? ((d) => Deno.watchFs(d, { recursive: true })))(root);
  let current = options.current;
  let files = namedFiles(current, root);
  let failed = false;
  let closed = false;
  let timer: AbortController | undefined;
  let reloading: Promise<void> = Promise.resolve();

  const relevant = (path: string): boolean => {
    const rel = relative(root, resolve(path));
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return false;
    const parts = rel.split(sep);
    if (parts.some((part) => part.startsWith("."))) return false;
    return rel === "workflow.yaml" || parts[0] === "nodes" || files.has(resolve(path));
  };

  const reload = () => {
    reloading = reloading.then(async () => {
      if (closed) return;
      try {
        const workflow = await load(root);
        const same = workflow.codeHash === current.codeHash && workflow.dir === current.dir;
        if (closed || (!failed && same)) return;
        const issues = await check(workflow);
        if (issues.length > 0) throw new WorkflowSyntaxError(issues);
        if (closed) return;
        failed = false;
        current = workflow;
        files = namedFiles(workflow, root);
        options.onReload(workflow);
      } catch (error) {
        if (closed) return;
        failed = true;
        options.onError(error);
      }
    });
  };

  const schedule = () => {
    timer?.abort();
    const mine = new AbortController();
    timer = mine;
    clock.sleep(debounceMs, mine.signal).then(() => {
      if (timer !== mine || closed) return;
      timer = undefined;
      reload();
    }, () => {});
  };

  const watching = (async () => {
    try {
      for await (const event of watcher) {
        if (closed) break;
        if (event.paths.some(relevant)) schedule();
      }
    } catch (error) {
      if (!closed) options.onError(error);
    }
  })();

  return {
    async close() {
      if (closed) return;
      closed = true;
      timer?.abort();
      try {
        watcher.close();
      } catch {
        // Already closed.
      }
      await watching;
      await reloading;
    },
  };
}
