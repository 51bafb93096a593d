/**
 * `loadWorkflow()`: read a workflow project from disk, then parse and compile it. The only
 * compiler entry that does I/O.
 *
 * @module
 */

import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import type { CompiledWorkflow } from "../workflow_model.ts";
import { WorkflowSyntaxError } from "../errors.ts";
import { type ParsedWorkflow, parseWorkflow } from "./parse_workflow.ts";
import { compileWorkflow } from "./compile_workflow.ts";
import { entryOf } from "./_located.ts";
import { commandFileArgs, isInside } from "./_node_files.ts";

/** Options of {@link loadWorkflow} and {@link loadWorkflowSource}. */
export interface LoadWorkflowOptions {
  /** The workflow file, relative to the directory. @default "workflow.yaml" */
  file?: string;
}

/** A workflow project as read from disk, before compilation. */
export interface WorkflowSource {
  /** Absolute workflow directory. */
  dir: string;
  /** Absolute path of the workflow file. */
  file: string;
  /** The workflow file's text. */
  text: string;
  parsed: ParsedWorkflow;
  /** Absolute path → content of every node file (and command file argument) that exists. */
  sources: Map<string, string>;
}

/** Files read at once: a 10,000-node workflow must not exhaust file descriptors. */
const READ_CONCURRENCY = 32;

/**
 * Reads and parses a workflow project: workflow.yaml and the files its nodes name.
 *
 * @param dir The workflow directory, or the path of its workflow.yaml.
 * @throws {WorkflowSyntaxError} When the workflow file is missing or is not valid YAML.
 * @example
 * ```ts
 * const source = await loadWorkflowSource("examples/hn-digest");
 * [...source.sources.keys()]; // absolute paths of the node files
 * ```
 */
export async function loadWorkflowSource(
  dir: string,
  options: LoadWorkflowOptions = {},
): Promise<WorkflowSource> {
  let root = resolve(dir);
  let name = options.file ?? "workflow.yaml";
  if (options.file === undefined && await isFile(root)) {
    name = basename(root);
    root = dirname(root);
  }
  const file = resolve(root, name);
  const shown = isAbsolute(name) ? relative(root, file) : name;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory)) {
      throw error;
    }
    throw new WorkflowSyntaxError([{
      file: shown,
      line: 0,
      column: 0,
      message: `Workflow file not found: ${file}`,
      hint: "Run `pipedreamer init <name>` to create a workflow project, " +
        "or pass the directory that contains workflow.yaml",
    }], { cause: error });
  }
  const parsed = parseWorkflow(text, shown);
  const sources = new Map<string, string>();
  const paths = [...new Set(nodeFilePaths(parsed, root))];
  for (let i = 0; i < paths.length; i += READ_CONCURRENCY) {
    await Promise.all(
      paths.slice(i, i + READ_CONCURRENCY).map(async (path) => {
        const content = await readIfFile(path);
        if (content !== undefined) sources.set(path, content);
      }),
    );
  }
  return { dir: root, file, text, parsed, sources };
}

/**
 * Loads a workflow project from disk and compiles it.
 *
 * @param dir The workflow directory, or the path of its workflow.yaml.
 * @returns The compiled workflow.
 * @throws {WorkflowSyntaxError} With every issue: a missing workflow file, YAML errors, or
 *   validation issues (a missing node file is reported at its `path:`).
 * @example
 * ```ts
 * const workflow = await loadWorkflow("examples/hn-digest");
 * console.log(workflow.order.join(" → "));
 * ```
 */
export async function loadWorkflow(
  dir: string,
  options: LoadWorkflowOptions = {},
): Promise<CompiledWorkflow> {
  const source = await loadWorkflowSource(dir, options);
  return compileWorkflow(source.parsed, {
    dir: source.dir,
    sources: source.sources,
    workflowText: source.text,
  });
}

/** Every file a node names: module paths and relative command arguments inside `dir`. */
function nodeFilePaths(parsed: ParsedWorkflow, dir: string): string[] {
  const root = parsed.root;
  const nodes = root?.kind === "map" ? entryOf(root, "nodes")?.value : undefined;
  if (nodes?.kind !== "map") return [];
  const paths: string[] = [];
  for (const { value } of nodes.entries) {
    if (value.kind !== "map") continue;
    const path = entryOf(value, "path")?.value;
    if (path?.kind === "scalar" && typeof path.value === "string" && path.value !== "") {
      paths.push(resolve(dir, path.value));
    }
    const command = entryOf(value, "command")?.value;
    if (command?.kind === "seq") {
      const argv = command.items.flatMap((item) =>
        item.kind === "scalar" && typeof item.value === "string" ? [item.value] : []
      );
      paths.push(...commandFileArgs(argv, dir));
    }
  }
  return paths.filter((path) => path !== dir && isInside(dir, path));
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The file's text, or undefined when it does not exist or cannot be read as a file. */
async function readIfFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const absent = error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.IsADirectory || error instanceof Deno.errors.PermissionDenied ||
      (error as { code?: string }).code === "EISDIR";
    if (absent) return undefined;
    throw error;
  }
}
