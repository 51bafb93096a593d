/**
 * The files a deployed workflow needs at /app/workflow, from one of two sources with the same
 * shape: the builder's bundle (each module node bundled into self-contained JavaScript, the
 * default: the engine image runs without network access to npm) or the raw sources (for
 * projects whose nodes import nothing remote, and for tests that skip `deno bundle`).
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { parseDocument } from "yaml";
import { bundleWorkflow, placeWorkflows, SUB_WORKFLOWS_DIR } from "../builder/mod.ts";
import type { CompiledWorkflow } from "../engine/mod.ts";

/** One file of the deployable bundle, at a path relative to the workflow directory. */
export interface WorkflowFile {
  /** POSIX path relative to the workflow directory, e.g. `nodes/fetch.ts`. */
  path: string;
  /** Text files as strings; anything else as bytes. */
  content: string | Uint8Array;
  /** Permission bits in the mounted volume. @default 0o444 */
  mode?: number;
}

/** Produces the deployable files of a compiled workflow. */
export type BundleSource = (workflow: CompiledWorkflow) => Promise<WorkflowFile[]>;

/** Where deploy takes the workflow's files from. */
export const BundleMode = {
  /** The builder's self-contained bundle (`deno bundle` per module node). */
  Bundle: "bundle",
  /** workflow.yaml and the node sources as they are. */
  Source: "source",
} as const;
/** One of {@link BundleMode}. */
export type BundleMode = typeof BundleMode[keyof typeof BundleMode];

/**
 * The builder's bundle as {@link WorkflowFile}s (executables named by command nodes keep their
 * execute bit).
 *
 * @throws {Error} "Cannot bundle …" when `deno bundle` fails for a node.
 */
export const bundledWorkflowFiles: BundleSource = async (workflow) => {
  // Over 900 KiB the bundle is baked into the image by build; deploy then runs it from there.
  const bundle = await bundleWorkflow(workflow);
  return Object.entries(bundle.files).map(([path, bytes]) => ({
    path,
    content: decodeText(bytes) ?? bytes,
    mode: (bundle.modes[path] ?? 0o644) & 0o111 ? 0o555 : 0o444,
  }));
};

/** The {@link BundleSource} of a {@link BundleMode}. */
export function bundleSource(mode: BundleMode): BundleSource {
  return mode === BundleMode.Source ? collectWorkflowFiles : bundledWorkflowFiles;
}

const SKIP = new Set(["node_modules", "tests", ".git", ".pipedreamer"]);

/**
 * Collects workflow.yaml, deno.json(c), every node file (module or command file argument) and
 * the other files in the node directories (local helpers a node imports). Dotfiles, `tests/`
 * and secrets are never included. Sub-workflows are collected the same way into
 * `_workflows/<key>/`, with the `workflow:` values rewritten to point there (as the builder's
 * bundle does).
 *
 * @throws {RangeError} when a node file lies outside the workflow directory.
 * @throws {import("../engine/mod.ts").WorkflowSyntaxError} for a sub-workflow outside the
 *   project root (at its `workflow:` value).
 * @example
 * ```ts
 * const files = await collectWorkflowFiles(await loadWorkflow("examples/hello-world"));
 * ```
 */
export const collectWorkflowFiles: BundleSource = async (workflow) => {
  const out: WorkflowFile[] = [];
  for (const placed of await placeWorkflows(workflow)) {
    for (const file of await collectOne(placed.workflow, placed.workflowPaths)) {
      if (placed.prefix === "" && file.path.startsWith(`${SUB_WORKFLOWS_DIR}/`)) {
        throw new RangeError(
          `Cannot bundle "${file.path}": ${SUB_WORKFLOWS_DIR}/ holds the sub-workflows in a bundle; rename the directory`,
        );
      }
      out.push({ ...file, path: `${placed.prefix}${file.path}` });
    }
  }
  return out;
};

async function collectOne(
  workflow: CompiledWorkflow,
  workflowPaths: Record<string, string>,
): Promise<WorkflowFile[]> {
  const root = workflow.dir;
  const paths = new Set<string>([workflow.file]);
  for (const name of ["deno.json", "deno.jsonc"]) {
    if (await exists(join(root, name))) paths.add(join(root, name));
  }
  const nodes = [...Object.values(workflow.nodes), ...(workflow.onError ? [workflow.onError] : [])];
  const dirs = new Set<string>();
  for (const node of nodes) {
    const files = node.path ? [node.path] : (node.command ?? [])
      .filter((arg) => arg.startsWith("./") || arg.startsWith("../"))
      .map((arg) => resolve(root, arg));
    for (const file of files) {
      if (!(await exists(file))) continue;
      const rel = relative(root, file);
      if (rel.startsWith("..") || isAbsolute(rel)) {
        throw new RangeError(
          `Cannot bundle node "${node.id}": "${file}" is outside the workflow directory; move it inside`,
        );
      }
      paths.add(file);
      if (dirname(file) !== root) dirs.add(dirname(file));
    }
  }
  for (const dir of dirs) for await (const file of walk(dir)) paths.add(file);
  const out: WorkflowFile[] = [];
  for (const path of [...paths].sort()) {
    const bytes = await Deno.readFile(path);
    out.push({
      path: relative(root, path).split(sep).join("/"),
      content: path === workflow.file && Object.keys(workflowPaths).length > 0
        ? withWorkflowPaths(new TextDecoder().decode(bytes), workflowPaths)
        : decodeText(bytes) ?? bytes,
    });
  }
  return out;
}

/** workflow.yaml with the `workflow:` values of the given nodes replaced. */
function withWorkflowPaths(text: string, workflowPaths: Record<string, string>): string {
  const doc = parseDocument(text);
  for (const [id, path] of Object.entries(workflowPaths)) {
    doc.setIn(["nodes", id, "workflow"], path);
  }
  return doc.toString({ lineWidth: 0 });
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".") || SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** UTF-8 text when the bytes are valid text without NUL characters. */
function decodeText(bytes: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return text.includes("\0") ? undefined : text;
  } catch {
    return undefined;
  }
}
