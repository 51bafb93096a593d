/**
 * The deployable unit of a workflow: every module node bundled into one self-contained
 * JavaScript file, the files named by command nodes, a workflow.yaml rewritten to point at
 * them, and manifest.json with the content hashes. File names are flat (`<node>.js`), so the
 * bundle is directly a ConfigMap (`data` keys) mounted at /app/workflow. Sub-workflows
 * (`workflow:` nodes, transitively) are bundled the same way in `_workflows/<key>/`, and the
 * `workflow:` values point there (see `_sub_workflow_layout.ts`).
 *
 * @module
 */

import { basename, dirname, join, relative, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { CompiledNode, CompiledWorkflow } from "../engine/mod.ts";
import { denoBundle } from "./_deno_bundle.ts";
import { sha256Hex } from "./_digest.ts";
import { type PlacedWorkflow, placeWorkflows } from "./_sub_workflow_layout.ts";

/** Bytes above which a bundle no longer fits a ConfigMap (1 MiB minus room for metadata). */
export const CONFIG_MAP_LIMIT = 900 * 1024;

/** manifest.json of a bundle. */
export interface BundleManifest {
  name: string;
  version: string;
  /** The workflow's code version: `CompiledWorkflow.codeHash` of the source project. */
  codeHash: string;
  /** Node id → bundle file that implements it (module nodes and command-node files). */
  nodes: Record<string, string[]>;
  /** Sub-workflows, by bundle directory (`_workflows/<key>`): their node files, there. */
  workflows?: Record<string, BundledSubWorkflow>;
  /** sha256 (hex) of every other file in the bundle (sub-workflows' files included). */
  files: Record<string, string>;
}

/** A sub-workflow in a bundle's manifest. */
export interface BundledSubWorkflow {
  name: string;
  version: string;
  /** Its own code hash (the top workflow's `codeHash` covers it). */
  codeHash: string;
  /** Node id → bundle file (relative to the sub-workflow's directory). */
  nodes: Record<string, string[]>;
}

/** A bundled workflow. */
export interface WorkflowBundle {
  /** File name → content, names sorted; includes workflow.yaml and manifest.json. */
  files: Record<string, Uint8Array>;
  /** File name → permission bits (0o755 for executables named by command nodes). */
  modes: Record<string, number>;
  manifest: BundleManifest;
  /** Total size of all files. */
  bytes: number;
  /** Whether `bytes` stays within the ConfigMap limit. */
  fitsConfigMap: boolean;
}

/** Options of {@link bundleWorkflow}. */
export interface BundleWorkflowOptions {
  /** Also write the files into this directory (created when missing). @default none */
  outDir?: string;
  /** The deno executable that runs `deno bundle`. @default this process's deno, else DENO_BIN or `deno` */
  deno?: string;
  /** ConfigMap size limit in bytes. @default CONFIG_MAP_LIMIT (900 KiB) */
  configMapLimit?: number;
  /** Cancels bundling. @default none */
  signal?: AbortSignal;
}

const encoder = new TextEncoder();
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * Bundles a compiled workflow. Module nodes are bundled with `deno bundle` (using the project's
 * deno.json when it has one); files that command nodes name by relative path are copied.
 *
 * @throws {Error} "Cannot bundle …" when `deno bundle` fails for a node (its diagnostics
 * included) or a command node names a file outside the workflow directory
 * @throws {import("../engine/mod.ts").WorkflowSyntaxError} at the `workflow:` value of a
 *   sub-workflow outside the project root (the directory holding the workflow's directory)
 * @example
 * ```ts
 * const workflow = await loadWorkflow("examples/hello");
 * const bundle = await bundleWorkflow(workflow, { outDir: "dist/hello.bundle" });
 * console.log(bundle.manifest.codeHash, bundle.fitsConfigMap);
 * ```
 */
export async function bundleWorkflow(
  workflow: CompiledWorkflow,
  options: BundleWorkflowOptions = {},
): Promise<WorkflowBundle> {
  const files = new Map<string, Uint8Array>();
  const modes = new Map<string, number>();
  let nodes: Record<string, string[]> = {};
  const workflows: Record<string, BundledSubWorkflow> = {};
  for (const placed of await placeWorkflows(workflow)) {
    const part = await bundleOne(placed, options);
    for (const [name, data] of part.files) files.set(`${placed.prefix}${name}`, data);
    for (const [name, mode] of part.modes) modes.set(`${placed.prefix}${name}`, mode);
    if (placed.prefix === "") nodes = part.nodes;
    else {
      workflows[placed.prefix.slice(0, -1)] = {
        name: placed.workflow.name,
        version: placed.workflow.version,
        codeHash: placed.workflow.codeHash,
        nodes: part.nodes,
      };
    }
  }

  const hashes: Record<string, string> = {};
  for (const name of [...files.keys()].sort()) hashes[name] = await sha256Hex(files.get(name)!);
  const manifest: BundleManifest = {
    name: workflow.name,
    version: workflow.version,
    codeHash: workflow.codeHash,
    nodes,
    ...(Object.keys(workflows).length > 0 ? { workflows } : {}),
    files: hashes,
  };
  files.set("manifest.json", encoder.encode(`${JSON.stringify(manifest, null, 2)}\n`));
  modes.set("manifest.json", 0o644);

  const names = [...files.keys()].sort();
  const bytes = names.reduce((n, name) => n + files.get(name)!.length, 0);
  const bundle: WorkflowBundle = {
    files: Object.fromEntries(names.map((n) => [n, files.get(n)!])),
    modes: Object.fromEntries(names.map((n) => [n, modes.get(n)!])),
    manifest,
    bytes,
    fitsConfigMap: bytes <= (options.configMapLimit ?? CONFIG_MAP_LIMIT),
  };
  if (options.outDir) await writeBundle(options.outDir, bundle);
  return bundle;
}

/**
 * Writes a bundle's files into `dir` (created when missing).
 *
 * @example
 * ```ts
 * await writeBundle("dist/hello.bundle", bundle);
 * ```
 */
export async function writeBundle(dir: string, bundle: WorkflowBundle): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, data] of Object.entries(bundle.files)) {
    if (name.includes("/")) await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeFile(join(dir, name), data, { mode: bundle.modes[name] ?? 0o644 });
  }
}

/** The files of one workflow of the tree, named relative to its own bundle directory. */
async function bundleOne(
  placed: PlacedWorkflow,
  options: BundleWorkflowOptions,
): Promise<{
  files: Map<string, Uint8Array>;
  modes: Map<string, number>;
  nodes: Record<string, string[]>;
}> {
  const { workflow } = placed;
  const source = await Deno.readTextFile(workflow.file);
  const doc = parseDocument(source, { keepSourceTokens: false });
  const config = await projectConfig(workflow.dir);
  // A project's lockfile is checked, never rewritten; without one, none is created.
  const lockPath = join(workflow.dir, "deno.lock");
  const lock = await isFile(lockPath) ? lockPath : false;
  const files = new Map<string, Uint8Array>();
  const modes = new Map<string, number>();
  const nodes: Record<string, string[]> = {};
  const bundled = new Map<string, string>();

  const all: CompiledNode[] = [...Object.values(workflow.nodes)];
  if (workflow.onError) all.push(workflow.onError);
  for (const node of all) {
    if (node.kind === "module" && node.path) {
      // Nodes that share a module share its bundle.
      let name = bundled.get(node.path);
      if (!name) {
        name = bundleName(node.id, ".js");
        bundled.set(node.path, name);
        files.set(
          name,
          await denoBundle(node.path, {
            deno: options.deno,
            cwd: workflow.dir,
            config,
            lock,
            signal: options.signal,
          }),
        );
        modes.set(name, 0o644);
      }
      doc.setIn(["nodes", node.id, "path"], `./${name}`);
      nodes[node.id] = [name];
    } else if (node.command) {
      nodes[node.id] = [];
      for (const [i, arg] of node.command.entries()) {
        const file = await workflowFile(workflow.dir, arg);
        if (!file) continue;
        const name = bundleName(node.id, `.${basename(file)}`);
        files.set(name, await Deno.readFile(file));
        const executable = ((await Deno.stat(file)).mode ?? 0) & 0o111;
        modes.set(name, executable ? 0o755 : 0o644);
        doc.setIn(["nodes", node.id, "command", i], `./${name}`);
        nodes[node.id]!.push(name);
      }
    }
  }
  for (const [id, path] of Object.entries(placed.workflowPaths)) {
    doc.setIn(["nodes", id, "workflow"], path);
  }
  files.set("workflow.yaml", encoder.encode(doc.toString({ lineWidth: 0 })));
  modes.set("workflow.yaml", 0o644);
  return { files, modes, nodes };
}

function bundleName(nodeId: string, suffix: string): string {
  const name = `${nodeId}${suffix}`;
  if (!CONFIG_MAP_KEY.test(name)) {
    throw new Error(
      `Cannot bundle node "${nodeId}": file name "${name}" is not a valid ConfigMap key (letters, digits, "-", "_", ".")`,
    );
  }
  return name;
}

/** The deno.json(c) of the project, used for its import map when bundling nodes. */
async function projectConfig(dir: string): Promise<string | undefined> {
  for (const name of ["deno.json", "deno.jsonc"]) {
    const path = join(dir, name);
    if (await isFile(path)) return path;
  }
  return undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * The absolute path when `arg` is a relative path to a file of the workflow, else undefined
 * (program names such as `python3` and flags are left alone).
 */
async function workflowFile(dir: string, arg: string): Promise<string | undefined> {
  // The engine's rule (engine/workflow/_node_files.ts): "./x" and "../x" name files of the project.
  if (!arg.startsWith("./") && !arg.startsWith("../")) return undefined;
  const path = resolve(dir, arg);
  const rel = relative(dir, path);
  if (rel.startsWith("..")) {
    throw new Error(
      `Cannot bundle command argument "${arg}": it points outside the workflow directory "${dir}"; move the file into the project`,
    );
  }
  try {
    return (await Deno.stat(path)).isFile ? path : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
