/**
 * The sandbox policy of SPEC §4 in both directions: a node's capabilities become the Deno
 * permissions of its worker, and a Deno permission denial becomes the capability the node must
 * declare. This is the one place that reads Deno's error messages.
 *
 * @module
 */

import type { Capabilities } from "../workflow_model.ts";

/** Directories a sandboxed node may touch. */
export interface SandboxDirs {
  /** The workflow directory: readable. */
  workflowDir: string;
  /** Writable (and readable): the run's temp dir, or the runner's base of per-run temp dirs. */
  writeDir: string;
}

/**
 * Deno `net` allow-list for the declared hosts: each DNS name also grants its subdomains
 * (`github.com` → `*.github.com`), a `:port` suffix is kept, IP addresses are taken as is.
 */
export function netAllowList(hosts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const entry of hosts) {
    out.add(entry);
    const match = /^([^:[\]]+)(:\d+)?$/.exec(entry);
    const host = match?.[1];
    if (host === undefined || host.startsWith("*.") || !/[a-z]/i.test(host)) continue;
    out.add(`*.${host}${match?.[2] ?? ""}`);
  }
  return [...out];
}

/**
 * The permissions of a worker running nodes with `capabilities` (SPEC §4): network only to
 * the declared hosts (code imports from the same hosts), reads of the workflow directory and
 * the write directory, writes to the write directory; no environment, subprocess, FFI or
 * system information.
 */
export function workerPermissions(
  capabilities: Capabilities,
  dirs: SandboxDirs,
): Deno.PermissionOptionsObject {
  // `net: "*"` (any host) is an explicit, declared opt-out of the network allow-list.
  const anyHost = capabilities.net.includes("*");
  const net = anyHost ? true : netAllowList(capabilities.net).sort();
  const granted = anyHost || (Array.isArray(net) && net.length > 0);
  return {
    net: granted ? net : false,
    import: granted ? net : false,
    read: dirs.workflowDir === dirs.writeDir
      ? [dirs.workflowDir]
      : [dirs.workflowDir, dirs.writeDir],
    write: [dirs.writeDir],
    env: false,
    run: false,
    ffi: false,
    sys: false,
  };
}

/** Deno permission names that can be denied. */
export const Permission = {
  Net: "net",
  Import: "import",
  Read: "read",
  Write: "write",
  Env: "env",
  Run: "run",
  Sys: "sys",
  Ffi: "ffi",
} as const;
/** One of {@link Permission}. */
export type Permission = typeof Permission[keyof typeof Permission];

/** What the sandbox refused. */
export interface Denial {
  permission: Permission;
  /** The host, path, variable or program, when Deno names it. */
  resource?: string;
}

const DENIAL = /Requires (net|import|read|write|env|run|sys|ffi) access(?: to "([^"]*)")?/;
/** A stack frame in Deno's node:child_process, which reads the environment before it spawns. */
const CHILD_PROCESS_FRAME = /\bext:deno_node\/(?:internal\/)?child_process\.ts:/;

/**
 * The permission denial behind `error` (Deno throws `NotCapable`, or a `TypeError` from the
 * module loader, both with a "Requires <permission> access to …" message), looking through
 * wrapping errors (`cause`, `AggregateError.errors`) and messages that quote Deno's, so a node
 * that catches and rethrows is still recognised. An environment denial raised inside
 * node:child_process (which copies the environment before spawning) is a `run` denial.
 */
export function findDenial(error: unknown, depth = 0): Denial | undefined {
  if (depth > 8 || typeof error !== "object" || error === null) return undefined;
  const { message, cause, stack } = error as {
    message?: unknown;
    cause?: unknown;
    stack?: unknown;
  };
  if (typeof message === "string") {
    const match = DENIAL.exec(message);
    // node:child_process copies the environment first: what the node tried is a subprocess.
    if (
      match?.[1] === Permission.Env && typeof stack === "string" && CHILD_PROCESS_FRAME.test(stack)
    ) return { permission: Permission.Run };
    if (match) return { permission: match[1] as Permission, resource: match[2] };
  }
  const nested = error instanceof AggregateError ? [cause, ...error.errors] : [cause];
  for (const inner of nested) {
    const found = findDenial(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** A capability failure: its message and, when one exists, the capability to declare. */
export interface DenialDescription {
  message: string;
  /** E.g. `net: "api.github.com"`. */
  capability?: string;
}

/** The host to declare for a denied `host:port` (default ports need no port). */
function hostToDeclare(resource: string): string {
  return resource.replace(/:(80|443)$/, "");
}

/**
 * The message of a node failure caused by `denial`, naming what to add to workflow.yaml, or
 * why no capability can grant it.
 */
export function describeDenial(
  nodeId: string,
  denial: Denial,
  dirs: SandboxDirs,
): DenialDescription {
  const prefix = `Cannot run node "${nodeId}": it`;
  const what = denial.resource === undefined ? "" : ` "${denial.resource}"`;
  switch (denial.permission) {
    case Permission.Net:
    case Permission.Import: {
      const host = hostToDeclare(denial.resource ?? "<host>");
      const verb = denial.permission === Permission.Net
        ? "needs network access to"
        : "imports code from";
      return {
        message: `${prefix} ${verb} "${host}"; add capabilities: { net: "${host}" } ` +
          "to the node in workflow.yaml",
        capability: `net: "${host}"`,
      };
    }
    case Permission.Run: {
      const program = denial.resource ?? "<program>";
      return {
        message: `${prefix} starts the subprocess "${program}", which a module node may not ` +
          `do; make it a command node (command: [${program}, …]) with capabilities: ` +
          `{ run: ["${program}"] } in workflow.yaml`,
      };
    }
    case Permission.Env:
      return {
        message: `${prefix} reads the environment${
          what ? ` variable${what}` : ""
        }, which nodes may not do; pass the value through config: or a secret instead`,
      };
    case Permission.Write:
      return {
        message: `${prefix} writes${what} outside its temp dir; write under ctx.tmpDir instead`,
      };
    case Permission.Read:
      if (isSecretFile(denial.resource, dirs.workflowDir)) {
        return {
          message: `${prefix} reads the project's secrets file${what}, which no node may ` +
            "read; use ctx.secrets (granted with capabilities: { secrets: [<service>] })",
        };
      }
      return {
        message: `${prefix} reads${what} outside the workflow directory "${dirs.workflowDir}"; ` +
          "nodes may read only files in the workflow directory and ctx.tmpDir",
      };
    case Permission.Sys:
      return { message: `${prefix} reads system information${what}, which nodes may not do` };
    case Permission.Ffi:
      return { message: `${prefix} loads the native library${what}, which nodes may not do` };
  }
}

/** Whether `path` is the workflow's `.secrets.yaml` or lies in its `.secrets/` directory. */
function isSecretFile(path: string | undefined, workflowDir: string): boolean {
  if (path === undefined) return false;
  const root = workflowDir.replace(/\/+$/, "");
  return [".secrets.yaml", ".secrets.yml", ".secrets"].some((name) =>
    path === `${root}/${name}` || path.startsWith(`${root}/.secrets/`)
  );
}

/** The failure of a command node whose program is not in `capabilities.run`. */
export function describeMissingRun(nodeId: string, program: string): DenialDescription {
  return {
    message: `Cannot run node "${nodeId}": it runs "${program}"; add capabilities: ` +
      `{ run: ["${program}"] } to the node in workflow.yaml`,
    capability: `run: "${program}"`,
  };
}

/**
 * Whether a command node may run `program`: it is listed verbatim in `capabilities.run`, or
 * both are paths naming the same file relative to the workflow directory `dir`.
 */
export function isRunAllowed(
  program: string,
  options: { allowed: readonly string[]; dir: string },
): boolean {
  const { allowed, dir } = options;
  const absolute = (p: string) => p.startsWith("/") ? p : `${dir.replace(/\/+$/, "")}/${p}`;
  return allowed.some((entry) =>
    entry === program ||
    (program.includes("/") && entry.includes("/") &&
      normalize(absolute(entry)) === normalize(absolute(program)))
  );
}

function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}
