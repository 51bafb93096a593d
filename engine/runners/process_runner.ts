/**
 * The contained runner of module nodes (SPEC §4): each node runs in a sandbox process, a
 * `deno run` child started with exactly the node's Deno permissions (see
 * engine/runners/_permissions.ts) and a V8 heap limit (`limits.memory`), talking to the engine
 * over its pipes (engine/runners/_sandbox_process.ts).
 *
 * Realms: one process per realm key — the node's module file, its permissions, heap limit,
 * `capabilities.k8s` rules and granted secrets. Nodes running different code never share a
 * realm; nodes declared with the same file and the same grants share its warm module
 * instance, as do the runs of one node (a warm call costs a message round trip, not a process
 * or isolate start). `isolation: run` gives each attempt a fresh process of its own, stopped
 * when the attempt ends.
 *
 * Containment holds by construction, not by patching APIs: a node cannot signal the engine (no
 * `run` permission; its own session), exhausting its heap, blocking its thread, crashing its
 * runtime or breaking the protocol ends only its own process, which is replaced on the next
 * call. Calls that were in flight in a process stopped because of another call run again,
 * uncharged (see {@link SandboxProcess}).
 *
 * Secrets: a node's `ctx.secrets` holds only what it may use (engine/runners/_secret_scope.ts);
 * the workflow's `.secrets.yaml` / `.secrets/` are denied to every sandbox even though the
 * workflow directory is readable.
 *
 * Writes: per-run temp dirs made by `makeTmpDir()` live under one runner-owned base directory,
 * which sandboxes may write (a node can write into the temp dirs of other runs of nodes in the
 * same realm, never outside the base). A `tmpDir` made elsewhere gets processes of its own.
 *
 * Imports and requirements: the process runs the sandbox entry next to the engine's code with
 * a deno executable (`Deno.execPath()`, which the engine must be allowed to run). From source,
 * that is engine/runners/_sandbox_process_main.ts with the engine's deno.json (import map);
 * `npm:` packages load from the Deno cache without any permission, `https:` imports need the
 * host in `capabilities.net`. From the bundled engine of a built image (builder/_runtime.ts),
 * it is the bundled entry at /app/engine/_sandbox_process_main.ts, started as the engine is:
 * no config, cached modules only, no remote or npm imports (node files are bundled too).
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { type SandboxDirs, workerPermissions } from "./_permissions.ts";
import { type ModuleRunner, SandboxPool } from "./_sandbox_pool.ts";
import { SandboxProcess } from "./_sandbox_process.ts";
import type { CompiledNode } from "../workflow_model.ts";
import type { Clock, NodeCall, NodeCallResult } from "../runner_protocol.ts";

/** Options of {@link createProcessRunner}. */
export interface ProcessRunnerOptions {
  /**
   * How long a node may ignore `ctx.signal` after a timeout or cancellation before it is
   * failed and its sandbox process stopped.
   * @default 500
   */
  graceMs?: number;
  /** Time source of the grace period. @default the system timers */
  clock?: Clock;
  /**
   * Base directory of the per-run temp dirs of `makeTmpDir()`; created when missing.
   * @default a new temp dir, made on first use and removed by `close()`
   */
  tmpBase?: string;
  /** Warm processes kept; beyond it the least recently used idle one is stopped. @default 32 */
  maxProcesses?: number;
  /** Heap limit of a node without `memoryMiB`, in MiB. @default 256 */
  memoryMiB?: number;
  /**
   * Changed node files a process re-imports before it is replaced.
   * @default 64
   */
  maxModuleVersions?: number;
  /** The deno executable. @default Deno.execPath() */
  deno?: string;
  /**
   * How long an idle sandbox process polls for its next call, in microseconds (see
   * engine/runners/_sandbox_process_main.ts). 0 lets it sleep at once: on a shared machine the
   * poll takes CPU from the engine and costs more than it saves (BENCHMARKS.md, issue 13).
   * @default 0
   */
  idleSpinUs?: number;
}

/** The process runner: a {@link ModuleRunner} (it makes per-run temp dirs its sandboxes can write). */
export type ProcessRunner = ModuleRunner;

const ENTRY = new URL("./_sandbox_process_main.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
/**
 * Whether this module runs from its source file; otherwise it is part of the bundled engine
 * (builder/_runtime.ts), where the sandbox entry is bundled too and there is no deno.json.
 */
const FROM_SOURCE = import.meta.url.endsWith("/engine/runners/process_runner.ts");
/** How the sandbox entry loads: with the engine's import map, or as the bundled engine does. */
const LOADING = FROM_SOURCE
  ? [`--config=${fromFileUrl(CONFIG)}`]
  : ["--no-config", "--cached-only", "--no-remote", "--no-npm"];
/** Files of a workflow directory no sandbox may read (SPEC §2, §4). */
const SECRET_FILES = [".secrets.yaml", ".secrets.yml", ".secrets"];
/**
 * Variables a sandbox process gets (for Deno's cache only: nodes have no env access). Read by
 * literal name, so that the bundled engine of an image is granted exactly these (see
 * `envNames` in builder/_runtime.ts).
 */
const PASSED_ENV: Record<string, () => string | undefined> = {
  DENO_DIR: () => Deno.env.get("DENO_DIR"),
  HOME: () => Deno.env.get("HOME"),
  XDG_CACHE_HOME: () => Deno.env.get("XDG_CACHE_HOME"),
  DENO_CERT: () => Deno.env.get("DENO_CERT"),
  SSL_CERT_FILE: () => Deno.env.get("SSL_CERT_FILE"),
};

/** A node's sandbox: its process arguments and realm key. */
interface Sandbox {
  dirs: SandboxDirs;
  node: CompiledNode;
  key: string;
  memoryMiB: number;
  k8s: boolean;
}

/** A path for a comma-separated permission list. */
function listed(path: string): string {
  if (path.includes(",")) {
    throw new RangeError(
      `the path "${path}" contains a comma, which Deno permission lists cannot hold`,
    );
  }
  return path;
}

/**
 * Why the engine cannot start sandbox processes, or undefined when it can: it needs a `deno`
 * executable it may run (`--allow-run` for it) and the sandbox entry script beside its code
 * (from source: with deno.json; in a built image: the bundled entry). A `deno compile`d
 * engine has neither.
 */
export function sandboxProcessProblem(): string | undefined {
  if (Deno.build.standalone) {
    return "this engine is a deno compile'd binary, which cannot start deno run sandbox processes";
  }
  if (ENTRY.protocol !== "file:") return `the sandbox entry ${ENTRY.href} is not a local file`;
  const exe = Deno.execPath();
  if (!/^deno(\.exe)?$/.test(exe.split("/").pop() ?? "")) {
    return `the engine's executable "${exe}" is not deno`;
  }
  try {
    if (Deno.permissions.querySync({ name: "run", command: exe }).state !== "granted") {
      return `the engine may not run "${exe}" (start it with --allow-run=${exe})`;
    }
    const files = FROM_SOURCE ? [ENTRY, CONFIG] : [ENTRY];
    for (const file of files) {
      if (!Deno.statSync(fromFileUrl(file)).isFile) return `${fromFileUrl(file)} is not a file`;
    }
  } catch (error) {
    return `the sandbox entry cannot be read: ${(error as Error).message}`;
  }
  return undefined;
}

/** Whether the engine can start sandbox processes (see {@link sandboxProcessProblem}). */
export function canStartSandboxProcesses(): boolean {
  return sandboxProcessProblem() === undefined;
}

/**
 * The `deno run` arguments of a sandbox process for `node`: exactly the node's permissions
 * (engine/runners/_permissions.ts), the workflow's secret files denied, the heap limit.
 */
export function sandboxArgs(
  node: CompiledNode,
  dirs: SandboxDirs,
  memoryMiB: number,
  channel: { read: string[]; write: string[]; net: string[] } = { read: [], write: [], net: [] },
): string[] {
  const permissions = workerPermissions(node.capabilities, dirs);
  const read = [...permissions.read as string[], ...channel.read].map(listed).join(",");
  const write = [...permissions.write as string[], ...channel.write].map(listed).join(",");
  const root = dirs.workflowDir.replace(/\/+$/, "");
  const secrets = SECRET_FILES.map((name) => listed(`${root}/${name}`)).join(",");
  const args = [
    "run",
    "--quiet",
    "--no-prompt",
    "--no-lock",
    ...LOADING,
    `--v8-flags=--max-old-space-size=${memoryMiB}`,
    `--allow-read=${read}`,
    `--deny-read=${secrets}`,
    `--allow-write=${write}`,
    `--deny-write=${secrets}`,
  ];
  if (permissions.net === true) args.push("--allow-net", "--allow-import");
  else {
    const hosts = Array.isArray(permissions.net) ? permissions.net : [];
    const net = [...hosts, ...channel.net.map(listed)];
    if (net.length > 0) args.push(`--allow-net=${net.join(",")}`);
    if (hosts.length > 0) args.push(`--allow-import=${hosts.join(",")}`);
  }
  args.push(fromFileUrl(ENTRY));
  return args;
}

/**
 * Creates the contained runner of module nodes.
 *
 * @throws {TypeError} From `run()`, for a node that is not a module node.
 * @example
 * ```ts
 * import { createProcessRunner } from "./process_runner.ts";
 * const runner = createProcessRunner();
 * try {
 *   // const { output } = await runner.run(call, AbortSignal.timeout(call.node.timeoutMs));
 * } finally {
 *   await runner.close();
 * }
 * ```
 */
export function createProcessRunner(options: ProcessRunnerOptions = {}): ProcessRunner {
  const graceMs = options.graceMs ?? 500;
  const defaultMemory = options.memoryMiB ?? 256;
  const deno = options.deno ?? Deno.execPath();
  const pool = new SandboxPool<SandboxProcess>({
    max: options.maxProcesses ?? 32,
    maxModuleVersions: options.maxModuleVersions ?? 64,
    tmpBase: options.tmpBase,
    name: "the process runner",
  });
  const sandboxes = new WeakMap<CompiledNode, Sandbox>();
  const env: Record<string, string> = {
    NO_COLOR: "1",
    DENO_NO_PACKAGE_JSON: "1",
    DENO_NO_UPDATE_CHECK: "1",
  };
  for (const [name, read] of Object.entries(PASSED_ENV)) {
    try {
      const value = read();
      if (value !== undefined) env[name] = value;
    } catch {
      // Not granted to the engine (a built image grants only what its code reads): not passed.
    }
  }

  /** The sandbox of a node, computed once per node object, workflow dir, write dir and k8s. */
  function sandboxOf(call: NodeCall, writeDir: string): Sandbox {
    const k8s = call.k8s !== undefined;
    const cached = sandboxes.get(call.node);
    if (
      cached && cached.dirs.workflowDir === call.workflow.dir &&
      cached.dirs.writeDir === writeDir && cached.k8s === k8s
    ) return cached;
    const { node } = call;
    const dirs: SandboxDirs = { workflowDir: call.workflow.dir, writeDir };
    const memoryMiB = node.memoryMiB ?? defaultMemory;
    const args = sandboxArgs(node, dirs, memoryMiB);
    // Code sharing a process can speak for each other's calls: only the same code with the
    // same grants shares one.
    const key = JSON.stringify([
      node.path,
      args,
      k8s ? node.capabilities.k8s : null,
      node.capabilities.secrets ?? [],
    ]);
    const sandbox = { dirs, node, key, memoryMiB, k8s };
    sandboxes.set(node, sandbox);
    return sandbox;
  }

  function start(sandbox: Sandbox, solo: boolean): SandboxProcess {
    return new SandboxProcess({
      key: sandbox.key,
      deno,
      args: (channel) => sandboxArgs(sandbox.node, sandbox.dirs, sandbox.memoryMiB, channel),
      idleSpinUs: solo ? 0 : options.idleSpinUs ?? 0,
      env,
      dirs: sandbox.dirs,
      memoryMiB: sandbox.memoryMiB,
      graceMs,
      clock: options.clock,
      solo,
      rerun: (call, signal, { solo }) => dispatch(call, signal, solo),
      onRetire: (retired) => pool.retired(retired),
      onExit: (stopped) => pool.exited(stopped),
    });
  }

  function processFor(call: NodeCall, solo: boolean): SandboxProcess {
    const sandbox = sandboxOf(call, pool.writeDirOf(call));
    if (solo) return pool.track(start(sandbox, true));
    return pool.get(sandbox.key, () => start(sandbox, false));
  }

  function dispatch(call: NodeCall, signal: AbortSignal, solo: boolean): Promise<NodeCallResult> {
    return pool.run(call, signal, () => processFor(call, solo || call.node.isolation === "run"));
  }

  return {
    run: (call, signal) => dispatch(call, signal, false),

    prepare(call) {
      if (pool.closed || call.node.kind !== "module" || call.node.isolation === "run") {
        return undefined;
      }
      try {
        const process = processFor(call as NodeCall, false);
        return process.preload(call);
      } catch {
        return undefined;
      }
    },

    ...pool.runnerParts(),
  };
}
