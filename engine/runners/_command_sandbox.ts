/**
 * The OS sandbox of command nodes (SPEC §4): bubblewrap (`bwrap`). The program sees the system
 * libraries (`/usr`) and the workflow directory read-only — without its `.secrets.yaml` /
 * `.secrets/` —, the run's temp dir as its only writable place, a private `/proc` and `/dev`,
 * an environment of `PATH`, `HOME` and `TMPDIR` only, user nobody (65534) in new user, PID, IPC
 * and UTS namespaces and its own session (it can signal nothing outside), and a network
 * namespace of its own — no network at all — unless the node declares `capabilities.net`.
 *
 * Not filtered: a command node that declares `net` shares the engine's network, every host
 * (bubblewrap has no per-host filter); `validate` says so for such nodes.
 *
 * @module
 */

/**
 * How command nodes run: `bwrap` (refused where bubblewrap cannot run), `fallback` (bubblewrap
 * where it can run, else unsandboxed with a warning: the CLI's `--unsandboxed-commands`) or
 * `none` (never sandboxed).
 */
export type CommandSandbox = "bwrap" | "fallback" | "none";

/** Files of /etc a program may need: the loader's cache; for the network, DNS and TLS roots. */
const ETC_ALWAYS = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
];
const ETC_NET = [
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/gai.conf",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/pki",
];
/** Top-level system directories: symlinks into /usr on merged-/usr systems, else bound. */
const SYSTEM_DIRS = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
const SECRET_NAMES = [".secrets.yaml", ".secrets.yml", ".secrets"];

/** What the sandbox of one command-node attempt is made of. */
export interface CommandSandboxSpec {
  /** Absolute path of the program, or a name found on `PATH` inside the sandbox. */
  program: string;
  args: string[];
  workflowDir: string;
  tmpDir: string;
  /** Whether the node declares `capabilities.net` (then the network is shared). */
  net: boolean;
  path: string;
}

function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The `bwrap` arguments that run `spec.program` in the sandbox. */
export function bwrapArgs(spec: CommandSandboxSpec): string[] {
  const root = spec.workflowDir.replace(/\/+$/, "");
  const args = [
    "--die-with-parent",
    "--new-session",
    "--unshare-all",
    ...(spec.net ? ["--share-net"] : []),
    "--uid",
    "65534",
    "--gid",
    "65534",
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const dir of SYSTEM_DIRS) {
    const info = lstat(dir);
    if (!info) continue;
    if (info.isSymlink) args.push("--symlink", Deno.readLinkSync(dir), dir);
    else args.push("--ro-bind", dir, dir);
  }
  for (const file of [...ETC_ALWAYS, ...(spec.net ? ETC_NET : [])]) {
    args.push("--ro-bind-try", file, file);
  }
  args.push("--ro-bind", root, root);
  for (const name of SECRET_NAMES) {
    const info = lstat(`${root}/${name}`);
    if (!info) continue;
    // Hidden: an empty directory over .secrets/, an unreadable empty file over the others.
    if (info.isDirectory) args.push("--tmpfs", `${root}/${name}`);
    else args.push("--ro-bind", "/dev/null", `${root}/${name}`);
  }
  // A program outside /usr and the workflow directory (/opt/python/bin/python3, a version
  // manager's shim) brings its installation read-only: the parent of its bin directory.
  if (
    spec.program.startsWith("/") && !spec.program.startsWith("/usr/") &&
    !spec.program.startsWith(`${root}/`)
  ) {
    const parts = spec.program.split("/").filter((p) => p !== "");
    const install = parts.length >= 4 ? parts.slice(0, -2) : parts.slice(0, -1);
    const dir = `/${install.join("/")}`;
    args.push("--ro-bind", dir === "/" ? spec.program : dir, dir === "/" ? spec.program : dir);
  }
  args.push(
    "--bind",
    spec.tmpDir,
    spec.tmpDir,
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--chdir",
    root,
    "--clearenv",
    "--setenv",
    "PATH",
    spec.path,
    "--setenv",
    "HOME",
    spec.tmpDir,
    "--setenv",
    "TMPDIR",
    spec.tmpDir,
    "--",
    spec.program,
    ...spec.args,
  );
  return args;
}

/**
 * Where a built image carries bubblewrap (builder/_bwrap.ts): the Debian binary with exactly
 * the shared libraries it links and their dynamic loader, which starts it (`ld.so
 * --library-path <dir> <binary>`), so that it needs nothing from the base image.
 */
export const IMAGE_BWRAP = {
  binary: "/app/bin/bwrap",
  libraryPath: "/app/lib/bwrap",
  loader: "/app/lib/bwrap/ld.so",
} as const;

/** Whether this engine is the one of a built image (its executable in /app/bin). */
function inImage(): boolean {
  try {
    return Deno.execPath().startsWith("/app/bin/");
  } catch {
    return false;
  }
}

/**
 * The command that starts `bwrap`: in a built image that has it, the image's copy through its
 * loader (when `bwrap` is the default name), else `bwrap` itself.
 */
export function bwrapCommand(bwrap: string): { program: string; prefix: string[] } {
  if (bwrap === "bwrap" && inImage() && lstat(IMAGE_BWRAP.loader)?.isFile) {
    return {
      program: IMAGE_BWRAP.loader,
      prefix: ["--library-path", IMAGE_BWRAP.libraryPath, IMAGE_BWRAP.binary],
    };
  }
  return { program: bwrap, prefix: [] };
}

/** The problem of {@link commandSandboxProblem} when there is no bubblewrap at all. */
export const BWRAP_MISSING = "bwrap (bubblewrap) is not installed";

const probes = new Map<string, Promise<string | undefined>>();

/**
 * Whether bubblewrap (`bwrap`, the executable) can make the sandbox here: undefined when it
 * can, else why not (it is missing, or the kernel or container refuses its namespaces).
 * Probed once per process.
 */
export function commandSandboxProblem(bwrap = "bwrap"): Promise<string | undefined> {
  let probe = probes.get(bwrap);
  if (probe) return probe;
  probe = (async () => {
    const tmp = await Deno.makeTempDir({ prefix: "pipedreamer-bwrap-probe-" });
    const { program, prefix } = bwrapCommand(bwrap);
    try {
      const output = await new Deno.Command(program, {
        args: [
          ...prefix,
          ...bwrapArgs({
            program: "true",
            args: [],
            workflowDir: tmp,
            tmpDir: tmp,
            net: false,
            path: "/usr/local/bin:/usr/bin:/bin",
          }),
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      if (output.success) return undefined;
      const stderr = new TextDecoder().decode(output.stderr).trim().split("\n")[0] ?? "";
      return `bwrap failed: ${stderr || `exit code ${output.code}`}`;
    } catch (error) {
      return error instanceof Deno.errors.NotFound
        ? BWRAP_MISSING
        : `bwrap cannot start: ${(error as Error).message}`;
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  })();
  probes.set(bwrap, probe);
  return probe;
}

let defaultSandbox: CommandSandbox = "bwrap";

/**
 * Sets the default command sandbox of the runners made after it (`--unsandboxed-commands`
 * sets "none" for the whole CLI process).
 */
export function setDefaultCommandSandbox(sandbox: CommandSandbox): void {
  defaultSandbox = sandbox;
}

/** The default command sandbox: "bwrap" unless the engine was started with the opt-out. */
export function defaultCommandSandbox(): CommandSandbox {
  return defaultSandbox;
}
