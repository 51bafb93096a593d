/**
 * `pipedreamer serve [dir]`: the production engine (SPEC §7) and the container entrypoint.
 *
 * @module
 */

import { type Command, Option } from "commander";
import type { CompiledNode } from "../engine/mod.ts";
import type { CronMode } from "../server/mod.ts";
import { type CliContext, CliFailure, globalOptions, usageError } from "./_output.ts";
import { durationFlag, intFlag } from "./_flags.ts";
import { nodeK8sAccess } from "./_node_k8s.ts";

/** Where `serve` looks for the API token when --token-file is not given. */
export const DEFAULT_TOKEN_FILE = "/app/secrets/pipedreamer/token";

interface ServeOptions {
  port: string;
  host: string;
  data: string;
  store?: string;
  storeFile?: string;
  durability: string;
  tokenFile?: string;
  auth: boolean;
  maxBody: string;
  grace: string;
  lease: string;
  configDir: string;
  secretsDir: string;
  cron?: string;
  natsUrl?: string;
  queue: string;
  canaryFile?: string;
  natsUrlFile?: string;
}

/** `--cron`, else env PIPEDREAMER_CRON, else internal; anything else is a usage error. */
function cronMode(
  command: Command,
  flag: string | undefined,
  modes: typeof CronMode,
): CronMode {
  const env = Deno.env.get("PIPEDREAMER_CRON")?.trim();
  const value = flag ?? (env ? env : modes.Internal);
  const names: readonly string[] = Object.values(modes);
  if (!names.includes(value)) {
    usageError(
      command,
      `Cannot use ${flag === undefined ? "PIPEDREAMER_CRON" : "--cron"} "${value}": ` +
        `expected ${names.map((m) => `"${m}"`).join(" or ")}`,
    );
  }
  return value as CronMode;
}

/**
 * The API token: --token-file when given (it must be readable), else PIPEDREAMER_TOKEN, else
 * the default token file when it exists. Undefined when there is none.
 */
async function readToken(tokenFile: string | undefined): Promise<string | undefined> {
  const read = async (file: string, required: boolean) => {
    try {
      const token = (await Deno.readTextFile(file)).trim();
      if (token === "") throw new CliFailure(`Cannot use token file "${file}": it is empty`);
      return token;
    } catch (error) {
      if (error instanceof CliFailure) throw error;
      if (!required && error instanceof Deno.errors.NotFound) return undefined;
      throw new CliFailure(`Cannot read token file "${file}": ${(error as Error).message}`);
    }
  };
  if (tokenFile !== undefined) return await read(tokenFile, true);
  const fromEnv = Deno.env.get("PIPEDREAMER_TOKEN")?.trim();
  if (fromEnv) return fromEnv;
  return await read(DEFAULT_TOKEN_FILE, false);
}

/** A required one-line secret file (its content never appears in an error). */
async function readSecretFile(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = (await Deno.readTextFile(file)).trim();
  } catch (error) {
    throw new CliFailure(`Cannot read ${what} "${file}": ${(error as Error).message}`);
  }
  if (text === "") throw new CliFailure(`Cannot use ${what} "${file}": it is empty`);
  return text;
}

/** Registers `serve`. */
export function registerServe(program: Command, cli: CliContext): void {
  program
    .command("serve")
    .description(
      "run the HTTP engine (container entrypoint): durable runs, auth, cron; SIGTERM drains",
    )
    .argument("[dir]", "workflow directory", ".")
    .option("--port <port>", "TCP port (0 picks a free one)", "8080")
    .option("--host <address>", "interface to listen on", "0.0.0.0")
    .option("--data <dir>", "directory of the SQLite run store and code snapshots", ".pipedreamer")
    .option("--store <url>", "run store: sqlite:<path> or postgres://user:pass@host/db")
    .option("--store-file <file>", "read the --store URL from a file (a mounted Secret)")
    .addOption(
      new Option(
        "--durability <mode>",
        "full: fsync every store commit (survives power loss); relaxed: survives a process " +
          "crash only, faster",
      ).choices(["full", "relaxed"]).default("full"),
    )
    .option(
      "--token-file <file>",
      `API token file (default ${DEFAULT_TOKEN_FILE}, or env PIPEDREAMER_TOKEN)`,
    )
    .option("--no-auth", "serve without a token (must be explicit)")
    .option("--max-body <bytes>", "largest request body", "1048576")
    .option("--grace <duration>", "how long running runs may finish on SIGTERM", "30s")
    .option(
      "--lease <duration>",
      "run lease: another replica takes over the runs of one that stopped renewing for this long",
      "8s",
    )
    .option("--config-dir <dir>", "runtime config overlay (k8s ConfigMap mount)", "/app/config")
    .option(
      "--secrets-dir <dir>",
      "mounted secrets (k8s Secret mount; ignored when missing)",
      "/app/secrets",
    )
    .addOption(
      new Option(
        "--cron <mode>",
        "who fires cron triggers: internal (this process) or external (Kubernetes CronJobs) " +
          "(default env PIPEDREAMER_CRON, else internal)",
      ),
    )
    .option("--nats-url <url>", "NATS for queue triggers and /hooks/ (default env NATS_URL)")
    .addOption(
      new Option(
        "--queue <mode>",
        "who consumes queue triggers and serves /hooks/: internal (this process) or external " +
          "(a canary: its live engine consumes and forwards)",
      ).choices(["internal", "external"]).default("internal"),
    )
    .option(
      "--canary-file <file>",
      "JSON { url, percent, version } of a canary engine, re-read on change: that share of new " +
        "runs is forwarded to it (deploy --canary writes it)",
    )
    .option("--nats-url-file <file>", "read the --nats-url URL from a file (a mounted Secret)")
    .action(async (dir: string, opts: ServeOptions, command: Command) => {
      const port = intFlag(command, "--port", opts.port, 0, 65_535);
      const maxBodyBytes = intFlag(command, "--max-body", opts.maxBody, 1, 2 ** 40);
      const graceMs = durationFlag(command, "--grace", opts.grace);
      const leaseMs = durationFlag(command, "--lease", opts.lease);
      if (leaseMs < 1_000) usageError(command, `Cannot use --lease "${opts.lease}": at least 1s`);
      (await import("./_tracing_env.ts")).checkTracingEnv(command);
      // server/ is loaded here, once the command is known (not for every command at start-up).
      const { serveUntilSignal } = await import("./_serve_process.ts");
      const { CronMode } = await import("../server/mod.ts");
      const cron = cronMode(command, opts.cron, CronMode);
      const nodeK8s = nodeK8sAccess(command);
      const k8s = (node: CompiledNode) => nodeK8s(node);
      if (opts.store !== undefined && opts.storeFile !== undefined) {
        usageError(command, "Cannot combine --store with --store-file: pick one");
      }
      const storeUrl = opts.storeFile !== undefined
        ? await readSecretFile(opts.storeFile, "store URL file")
        : opts.store;
      if (opts.natsUrl !== undefined && opts.natsUrlFile !== undefined) {
        usageError(command, "Cannot combine --nats-url with --nats-url-file: pick one");
      }
      const natsUrl = opts.natsUrlFile !== undefined
        ? await readSecretFile(opts.natsUrlFile, "NATS URL file")
        : opts.natsUrl ?? Deno.env.get("NATS_URL");
      const noAuth = opts.auth === false;
      const token = noAuth ? undefined : await readToken(opts.tokenFile);
      if (!noAuth && token === undefined) {
        throw new CliFailure(
          `Cannot start serve: no API token; mount it at ${DEFAULT_TOKEN_FILE}, pass ` +
            "--token-file <file> or set PIPEDREAMER_TOKEN, or pass --no-auth to serve without auth",
        );
      }
      await serveUntilSignal(cli, {
        dir,
        port,
        host: opts.host,
        dataDir: opts.data,
        storeUrl,
        durability: opts.durability as "full" | "relaxed",
        token,
        noAuth,
        graceMs,
        leaseMs,
        maxBodyBytes,
        configDir: opts.configDir,
        secretsDir: opts.secretsDir,
        cron,
        queue: opts.queue as CronMode,
        canaryFile: opts.canaryFile,
        natsUrl,
        // ctx.k8s for nodes with capabilities.k8s: the pod's service account in the cluster,
        // else the kubeconfig (--context); -n or the pod's namespace is ctx.k8s.namespace.
        k8s,
      }, globalOptions(command).verbose);
    });
}
