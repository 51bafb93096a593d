/**
 * The engine runtime that goes into the image, in one of two forms:
 * - `compiled`: a `deno compile`d `pipedreamer` binary at /app/bin/pipedreamer;
 * - `deno`: the deno binary at /app/bin/deno plus the engine bundled with `deno bundle` at
 *   /app/engine/main.js and every worker script the engine loads by URL (the sandbox process
 *   entry among them), bundled next to it at the path that URL resolves to, and bubblewrap
 *   (builder/_bwrap.ts). The engine may run /app/bin/deno (its sandbox processes) and
 *   bubblewrap's loader (command nodes).
 *
 * @module
 */

import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { imageBwrap } from "./_bwrap.ts";
import { denoBundle, denoExecutable } from "./_deno_bundle.ts";
import type { Platform } from "./_oci.ts";
import type { TarEntry } from "./_tar.ts";

/** Forms of the runtime. */
export const RuntimeKind = {
  Deno: "deno",
  Compiled: "compiled",
} as const;
/** One of {@link RuntimeKind}. */
export type RuntimeKind = typeof RuntimeKind[keyof typeof RuntimeKind];

/** The runtime's files (paths under `app/`) and how to start it. */
export interface Runtime {
  kind: RuntimeKind;
  entries: TarEntry[];
  /** The process to start, before the command (`serve /app/workflow`). */
  entrypoint: string[];
  /** What the build should say about the runtime (bubblewrap in it or not, and why). */
  notes: string[];
}

/** Options of {@link prepareRuntime}. */
export interface RuntimeOptions {
  platform: Platform;
  /** A `pipedreamer` binary or a deno binary for `platform`. */
  runtimeBinary?: string;
  /** Executables command nodes run (granted with `--allow-run`). */
  run: string[];
  signal?: AbortSignal;
}

/** Where the source tree of this pipedreamer lives (bundling the engine needs it). */
const SOURCE_ROOT = new URL("../", import.meta.url);
const ENGINE_DIR = "app/engine";
/** The deno binary in the image: the engine starts node sandbox processes with it. */
const IMAGE_DENO = "/app/bin/deno";

/** ELF `e_machine` values of the supported architectures. */
const ELF_MACHINE: Record<string, number> = { amd64: 0x3e, arm64: 0xb7 };

/**
 * Deno flags of the engine process: the outer sandbox that node permissions narrow further.
 * `env` lists the variables the engine may read (besides `PIPEDREAMER_*`), or is `["*"]` for
 * all of them; `run` lists the executables of command nodes; `sys` the system information
 * the engine reads (`hostname`, …).
 */
export function denoRunFlags(run: string[], env: string[], sys: string[] = []): string[] {
  return [
    "run",
    "--no-prompt",
    "--no-lock",
    "--no-config",
    "--cached-only",
    "--no-remote",
    "--no-npm",
    "--unstable-worker-options",
    "--allow-net",
    "--allow-read=/app,/var/run/secrets,/tmp",
    "--allow-write=/tmp",
    env.includes("*")
      ? "--allow-env"
      : `--allow-env=${["PIPEDREAMER_*", ...new Set(env)].join(",")}`,
    ...(sys.length > 0 ? [`--allow-sys=${[...new Set(sys)].sort().join(",")}`] : []),
    ...(run.length > 0 ? [`--allow-run=${[...new Set(run)].sort().join(",")}`] : []),
  ];
}

/**
 * Collects the runtime. Without `runtimeBinary` it is this host's deno plus the bundled engine,
 * which only works for the host's own platform and when running from source.
 *
 * @throws {TypeError} when the platform needs `--runtime-binary`, or the binary is not an ELF
 * executable for the platform
 */
export async function prepareRuntime(options: RuntimeOptions): Promise<Runtime> {
  const arch = options.platform.architecture;
  const hostArch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  let binary = options.runtimeBinary;
  if (!binary) {
    if (arch !== hostArch) {
      throw new TypeError(
        `Cannot build for platform "linux/${arch}" on this ${hostArch} host: pass --runtime-binary with a linux/${arch} pipedreamer (deno compile --target ${
          arch === "arm64" ? "aarch64" : "x86_64"
        }-unknown-linux-gnu) or a linux/${arch} deno binary`,
      );
    }
    binary = Deno.build.standalone ? Deno.execPath() : await Deno.realPath(denoExecutable());
  }
  const data = await Deno.readFile(binary);
  assertElfFor(binary, data, arch);
  const compiled = options.runtimeBinary
    ? !basename(binary).startsWith("deno")
    : Deno.build.standalone;
  if (compiled) {
    return {
      kind: RuntimeKind.Compiled,
      entries: [{ path: "app/bin/pipedreamer", type: "file", mode: 0o755, data }],
      entrypoint: ["/app/bin/pipedreamer"],
      notes: [
        "compiled runtime: module nodes run in workers of the engine process, not contained " +
        "(it cannot start deno run sandbox processes); no bubblewrap: command nodes are refused",
      ],
    };
  }
  if (Deno.build.standalone) {
    throw new TypeError(
      `Cannot bundle the engine for the deno runtime "${binary}": this pipedreamer is compiled and has no source; pass a compiled pipedreamer as --runtime-binary`,
    );
  }
  const engine = await engineEntries(options.signal);
  const code = engine.map((entry) => new TextDecoder().decode(entry.data));
  const env = code.flatMap(envNames);
  const sys = code.flatMap(sysNames);
  const bwrap = await imageBwrap(arch);
  return {
    kind: RuntimeKind.Deno,
    entries: [
      { path: "app/bin/deno", type: "file", mode: 0o755, data },
      ...engine,
      ...bwrap.entries,
    ],
    entrypoint: [
      "/app/bin/deno",
      ...denoRunFlags(
        [...options.run, IMAGE_DENO, ...bwrap.run],
        [...new Set(env)].sort(),
        sys,
      ),
      `/${ENGINE_DIR}/main.js`,
    ],
    notes: [bwrap.summary],
  };
}

/**
 * Environment variables the bundled code reads by name (`Deno.env.get("X")`,
 * `process.env.X`, `process.env["X"]`): the engine's and its npm dependencies' (yaml reads
 * LOG_TOKENS, commander FORCE_COLOR, …). Dynamic names are not granted. Code that enumerates
 * the whole environment (`Object.keys(process.env)`, `Deno.env.toObject()`, as the `debug`
 * package does when it loads) gets `["*"]`: all of it. The container's environment is
 * minimal and never holds secrets; node workers get no environment either way.
 */
export function envNames(code: string): string[] {
  const enumerates =
    /Object\.(?:keys|entries|values|assign)\(\s*(?:\{\s*\}\s*,\s*)?[\w.]*process\.env\s*\)|Deno\.env\.toObject\(\)|\.\.\.\s*[\w.]*process\.env\b/;
  if (enumerates.test(code)) return ["*"];
  const pattern =
    /(?:Deno\.env\.(?:get|has)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\)|process\.env\.([A-Za-z_][A-Za-z0-9_]*)|process\.env\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\])/g;
  const names = new Set<string>();
  for (const match of code.matchAll(pattern)) {
    const name = match[1] ?? match[2] ?? match[3];
    if (name && !name.startsWith("PIPEDREAMER_")) names.add(name);
  }
  return [...names].sort();
}

/** `Deno.*` functions that need `--allow-sys=<name>`. */
const DENO_SYS = [
  "hostname",
  "osRelease",
  "osUptime",
  "loadavg",
  "networkInterfaces",
  "systemMemoryInfo",
  "uid",
  "gid",
];

/**
 * The `--allow-sys` kinds the bundled code calls for (`Deno.hostname()` for the server's lease
 * owner id, `Deno.uid()`, …). Node's `os` module used by a dependency is not detected: such a
 * call fails with a NotCapable error naming the missing kind.
 */
export function sysNames(code: string): string[] {
  const names = new Set<string>();
  for (const match of code.matchAll(/\bDeno\.(\w+)\(/g)) {
    if (DENO_SYS.includes(match[1]!)) names.add(match[1]!);
  }
  return [...names].sort();
}

/** The bundled engine and the worker scripts it loads with `new URL("./x", import.meta.url)`. */
async function engineEntries(signal?: AbortSignal): Promise<TarEntry[]> {
  const root = fileURLToPath(SOURCE_ROOT);
  const main = join(root, "main.ts");
  const entries: TarEntry[] = [{
    path: `${ENGINE_DIR}/main.js`,
    type: "file",
    data: await denoBundle(main, { cwd: root, config: join(root, "deno.json"), signal }),
  }];
  for (const worker of await workerScripts(main, root)) {
    entries.push({
      path: worker.imagePath,
      type: "file",
      data: await denoBundle(worker.source, { cwd: root, config: join(root, "deno.json"), signal }),
    });
  }
  return entries;
}

/**
 * Finds every `new URL("./…", import.meta.url)` that names a module in the engine's local
 * module graph. In the bundle `import.meta.url` is /app/engine/main.js, so each script is
 * placed where that relative URL then points.
 */
export async function workerScripts(
  main: string,
  root: string,
): Promise<{ source: string; imagePath: string }[]> {
  const modules = await localModules(main, root);
  const found = new Map<string, string>();
  const pattern =
    /new\s+URL\(\s*["'](\.{1,2}\/[^"']+\.(?:ts|js|mjs|tsx))["']\s*,\s*import\.meta\.url\s*\)/g;
  for (const file of modules) {
    const text = await Deno.readTextFile(file);
    for (const match of text.matchAll(pattern)) {
      const specifier = match[1]!;
      const source = resolve(dirname(file), specifier);
      const imagePath = relative("/", resolve(`/${ENGINE_DIR}`, specifier));
      if (!imagePath.startsWith("app/") || imagePath === `${ENGINE_DIR}/main.js`) {
        throw new TypeError(
          `Cannot place worker script "${specifier}" (from "${
            relative(root, file)
          }") in the image: it resolves to "/${imagePath}"; keep worker scripts beside the module that loads them`,
        );
      }
      const previous = found.get(imagePath);
      if (previous && previous !== source) {
        throw new TypeError(
          `Cannot place worker scripts "${previous}" and "${source}" in the image: both resolve to "/${imagePath}" from the bundled engine`,
        );
      }
      found.set(imagePath, source);
    }
  }
  return [...found].sort().map(([imagePath, source]) => ({ source, imagePath }));
}

async function localModules(main: string, root: string): Promise<string[]> {
  const output = await new Deno.Command(denoExecutable(), {
    args: ["info", "--json", "--config", join(root, "deno.json"), main],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!output.success) {
    throw new Error(
      `Cannot list the engine's modules: deno info failed\n${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  return info.modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file://"))
    .map((s) => fileURLToPath(s))
    .filter((p) => /\.(ts|js|mjs|tsx)$/.test(p) && !relative(root, p).startsWith(".."));
}

function assertElfFor(path: string, data: Uint8Array, arch: string): void {
  const isElf = data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
  if (!isElf || data.length < 20) {
    throw new TypeError(`Cannot use runtime binary "${path}": not an ELF executable`);
  }
  const machine = (data[18] ?? 0) | ((data[19] ?? 0) << 8);
  if (machine !== ELF_MACHINE[arch]) {
    const actual = Object.entries(ELF_MACHINE).find(([, m]) => m === machine)?.[0] ??
      `machine 0x${machine.toString(16)}`;
    throw new TypeError(
      `Cannot use runtime binary "${path}" for linux/${arch}: it is built for ${actual}; pass a linux/${arch} binary`,
    );
  }
}
