/**
 * The one wiring of `dev` and `serve`: workflow, secrets, config overlay, store, run manager,
 * HTTP handler and `Deno.serve`, plus the graceful shutdown and (dev) hot reload.
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import {
  type Clock,
  type CompiledWorkflow,
  createRedactor,
  type ExecuteOptions,
  loadSecrets,
  loadSubWorkflowSecrets,
  loadWorkflow,
  type NodeRunner,
} from "../engine/mod.ts";
import { type Durability, openStore, type RunStore } from "../store/mod.ts";
import { createDashboard } from "../ui/mod.ts";
import type { NatsTriggers } from "../triggers/mod.ts";
import { createAuthenticator } from "./_auth.ts";
import { CodeSnapshots } from "./_code_snapshots.ts";
import { withExtraMetrics } from "./_metrics_format.ts";
import { findSnapshotVersion } from "./_code_versions.ts";
import { loadRunTracer, otlpTracesProtocol, tracingConfigured } from "../tracing/mod.ts";
import {
  bootConnGuardThread,
  type BootingConnGuard,
  type ConnGuardThread,
} from "./_conn_guard_thread.ts";
import { type ProcessLock, tryLockFile } from "./_process_lock.ts";
import { loadConfigOverlay } from "./_config_overlay.ts";
import { createHandler, type HandlerOptions } from "./create_handler.ts";
import { CanarySplit } from "./_canary.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./_body.ts";
import { type CanaryQueueRuns, canaryQueueRuns } from "./_canary_queue.ts";
import { canaryForwarder } from "./_canary_routes.ts";
import { devReload, type DevReloader } from "./dev_reload.ts";
import { RunManager } from "./run_manager.ts";

/** What happens in a running server, for the CLI to print. Messages are already redacted. */
export type ServerEvent =
  | { type: "listening"; url: string; hostname: string; port: number }
  | { type: "recovered"; resumed: number; requeued: number }
  | { type: "reloaded"; workflow: CompiledWorkflow }
  | { type: "reload-failed"; error: unknown }
  | { type: "draining"; graceMs: number }
  | { type: "stopped" }
  | { type: "error"; message: string; stack?: string };

/** Who fires the workflow's cron triggers. */
export const CronMode = {
  /** This process, in-process (dev, a single `serve`). */
  Internal: "internal",
  /** Someone else (Kubernetes CronJobs): this process never fires them. */
  External: "external",
} as const;
/** Who fires the workflow's cron triggers. */
export type CronMode = typeof CronMode[keyof typeof CronMode];

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The workflow directory. */
  dir: string;
  /** TCP port; 0 picks a free one (see the `listening` event). @default 8080 */
  port?: number;
  /** Interface to listen on; dev always uses 127.0.0.1. @default "0.0.0.0" */
  host?: string;
  /** Directory of the SQLite store when `storeUrl` is unset. @default "./.pipedreamer" */
  dataDir?: string;
  /** `sqlite:<path>` or `postgres://…`. @default undefined (SQLite in dataDir) */
  storeUrl?: string;
  /**
   * What a resolved store write survives: `full` fsyncs every group commit, `relaxed` survives
   * a process crash only (see `Durability` in store/). @default "full"
   */
  durability?: Durability;
  /** The API token every route but /health requires (serve). @default undefined */
  token?: string;
  /** Serve without auth; must be explicit when there is no token. @default false */
  noAuth?: boolean;
  /** Dev mode: 127.0.0.1 only, no auth, reload on file changes. @default false */
  dev?: boolean;
  /** How long running runs may finish on shutdown before they are cancelled. @default 30_000 */
  graceMs?: number;
  /** Request body limit. @default 1_048_576 */
  maxBodyBytes?: number;
  /** Runtime config overlay (k8s ConfigMap mount); ignored when missing. @default "/app/config" */
  configDir?: string;
  /** Mounted secrets; ignored when missing. @default "/app/secrets" */
  secretsDir?: string;
  /** Node runner. @default createRunner() (closed on shutdown) */
  runner?: NodeRunner;
  /**
   * NATS URL(s) for queue triggers and `/hooks/`; credentials come from the `nats` secret.
   * @default undefined (both off)
   */
  natsUrl?: string;
  /**
   * `internal` fires cron triggers in this process; `external` leaves them to someone else
   * (the Kubernetes CronJobs of `deploy`) and never starts the cron scheduler.
   * @default "internal"
   */
  cron?: CronMode;
  /**
   * `external`: never consume queue triggers nor serve `/hooks/`, even with `natsUrl` (a canary:
   * its live engine consumes and forwards the canary's share). @default "internal"
   */
  queue?: CronMode;
  /**
   * The live engine of a canary release: a JSON file `{ url, percent, version }` naming the
   * canary (`{}` or no file: none), re-read when it changes; that share of new runs (HTTP and
   * queue, never cron) is forwarded to the canary, and requests about runs this engine does not
   * have are forwarded there too. @default undefined (no canary)
   */
  canaryFile?: string;
  /**
   * Gives `ctx.k8s` to nodes that declare `capabilities.k8s` (see `ExecuteOptions.k8s`).
   * @default undefined (no node has `ctx.k8s`)
   */
  k8s?: ExecuteOptions["k8s"];
  /** Time source of runs, cron and the dev reload debounce. @default systemClock */
  clock?: Clock;
  /**
   * This process's id in run leases: unique per process, so replicas that share a hostname
   * and port never take each other's runs. @default "<hostname>:<port>:<pid>:<random>"
   */
  owner?: string;
  /**
   * Run lease length: a replica that stops renewing (crash, pause) loses its runs to another
   * after this long; renewed every third of it. @default 8_000
   */
  leaseMs?: number;
  /** Serves GET / and its assets. @default the embedded web dashboard (ui/mod.ts) */
  dashboard?: HandlerOptions["dashboard"];
  /** Receives what happens. @default ignore */
  onEvent?: (event: ServerEvent) => void;
  /**
   * Client connection limits (see server/_conn_guard.ts): a request head must arrive within
   * `headerTimeoutMs`, a kept-alive connection may idle `idleTimeoutMs`, at most
   * `maxConnections` are open. @default { headerTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxConnections: 1024 }
   */
  connections?: { headerTimeoutMs?: number; idleTimeoutMs?: number; maxConnections?: number };
}

/** A started server. */
export interface RunningServer {
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  readonly manager: RunManager;
  /**
   * Graceful stop: every request gets 503, running runs may finish for `graceMs`, then they
   * are cancelled and persisted; the store and runner are closed. Idempotent.
   */
  shutdown(): Promise<void>;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
}

/** How long shutdown waits for open connections after the runs are done. */
const CLOSE_TIMEOUT_MS = 5_000;

function urlOf(hostname: string, port: number): string {
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/**
 * Starts `dev` or `serve`: loads the workflow, secrets and config overlay, opens the store,
 * resumes runs a dead process left (`recover()`), starts cron triggers (unless `cron` is
 * `external`) and listens. Runs execute an immutable copy of the workflow's code in
 * `<dataDir>/code/<hash>/`, one per version (see `CodeSnapshots`): a dev reload never changes
 * the code under a run in flight.
 *
 * @throws {WorkflowSyntaxError} when the workflow does not load
 * @throws {TypeError} when serve has no token and `noAuth` is not set
 * @throws {Error} when the store, secrets or overlay cannot be read, the code cannot be copied
 *   to `<dataDir>/code`, or the port is taken
 * @example
 * ```ts
 * import { startServer } from "./start_server.ts";
 * const server = await startServer({ dir: "examples/hello-world", dev: true, port: 0 });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  // The guard's thread boots while the workflow, store and runs are loaded.
  const booting = bootConnGuardThread();
  try {
    return await startWith(options, booting);
  } catch (error) {
    booting.terminate();
    throw error;
  }
}

async function startWith(
  options: StartServerOptions,
  booting: BootingConnGuard,
): Promise<RunningServer> {
  const dev = options.dev ?? false;
  const token = dev || options.noAuth ? undefined : options.token;
  if (!dev && !options.noAuth && !token) {
    throw new TypeError(
      "Cannot start server: no API token; mount it at /app/secrets/pipedreamer/token, pass " +
        "--token-file <file> or set PIPEDREAMER_TOKEN, or pass --no-auth to serve without auth",
    );
  }
  const port = options.port ?? 8080;
  const hostname = dev ? "127.0.0.1" : options.host ?? "0.0.0.0";
  const graceMs = options.graceMs ?? 30_000;
  const emit = options.onEvent ?? (() => {});

  const cron = options.cron ?? CronMode.Internal;
  if (!Object.values(CronMode).includes(cron)) {
    throw new TypeError(
      `Cannot start server: cron must be "internal" or "external", got ${JSON.stringify(cron)}`,
    );
  }
  // An unsupported OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL is a RangeError before anything opens.
  if (tracingConfigured()) otlpTracesProtocol();
  const loaded = await loadWorkflow(options.dir);
  // Secrets and reloads use the real directory; runs use the snapshot of their version.
  const dir = loaded.dir;
  const secrets = await loadSecrets(dir, { mountDir: options.secretsDir });
  const subWorkflowSecrets = await loadSubWorkflowSecrets(loaded, { mountDir: options.secretsDir });
  const configOverlay = await loadConfigOverlay(options.configDir ?? "/app/config");
  const redact = createRedactor([{ ...secrets, __token: token ?? "" }, subWorkflowSecrets]);
  const reportError = (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    emit({ type: "error", message: redact(e.message), stack: e.stack && redact(e.stack) });
  };

  const dataDir = resolve(options.dataDir ?? (dev ? join(dir, ".pipedreamer") : ".pipedreamer"));
  const snapshots = new CodeSnapshots(join(dataDir, "code"), { exclude: [dataDir] });
  const workflow = await snapshots.snapshot(loaded);
  // The one process holding a SQLite store's lock knows every lease in it is stale: it takes
  // the runs over at once instead of waiting for their leases to expire.
  const sqlitePath = sqliteFileOf(options.storeUrl, dataDir);
  const lock: ProcessLock | undefined = sqlitePath === undefined || sqlitePath === ":memory:"
    ? undefined
    : await tryLockFile(`${sqlitePath}.lock`);
  let store: RunStore;
  try {
    store = await openStore(options.storeUrl, { dataDir, durability: options.durability });
  } catch (error) {
    lock?.release();
    throw error;
  }
  // The OpenTelemetry SDK is loaded only when an OTLP endpoint is configured.
  const tracer = tracingConfigured() ? await loadRunTracer({ redact }) : undefined;
  let manager: RunManager | undefined;
  let reloader: DevReloader | undefined;
  let server: Deno.HttpServer<Deno.UnixAddr> | undefined;
  let guard: ConnGuardThread | undefined;
  let socketDir: string | undefined;
  const streams = new AbortController();
  let draining = false;
  let nats: NatsTriggers | undefined;
  try {
    manager = await RunManager.create({
      workflow,
      store,
      runner: options.runner,
      secrets,
      subWorkflowSecrets,
      configOverlay,
      k8s: options.k8s,
      clock: options.clock,
      owner: options.owner ??
        `${Deno.hostname()}:${port}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`,
      leaseMs: options.leaseMs ?? 8_000,
      exclusiveStore: lock !== undefined || sqlitePath === ":memory:",
      prewarm: true,
      onError: reportError,
      tracer,
      findVersion: (codeHash) =>
        findSnapshotVersion(snapshots.root, codeHash, relative(loaded.dir, loaded.file)),
    });
    const { resumed, requeued } = await manager.recover();
    if (resumed + requeued > 0) emit({ type: "recovered", resumed, requeued });
    const pruning = manager;
    const prune = () =>
      void snapshots.prune(pruning.versionsInUse().map((w) => w.dir)).catch(reportError);
    prune();
    if (cron === CronMode.Internal) manager.startTriggers();
    const split = options.canaryFile === undefined
      ? undefined
      : new CanarySplit(options.canaryFile, { token, onError: reportError });
    nats = options.queue === CronMode.External ? undefined : await startQueueTriggersOf(
      workflow,
      options.natsUrl,
      split ? canaryQueueRuns(manager, split, streams.signal) : manager,
      secrets,
      reportError,
    );
    const triggers = nats;
    // triggers/ (and the NATS client) is loaded only when NATS is in use.
    const natsLayer = triggers ? await import("../triggers/mod.ts") : undefined;
    const api = createHandler(
      triggers ? withExtraMetrics(manager, triggers.metrics) : manager,
      {
        auth: token ? { token } : false,
        maxBodyBytes: options.maxBodyBytes,
        dashboard: options.dashboard ?? dashboardOf(manager, token, streams.signal),
        draining: () => draining,
        signal: streams.signal,
        onError: reportError,
        forward: split && canaryForwarder(split, manager, {
          maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
          onError: reportError,
        }),
      },
    );
    // Webhooks carry their own verification, so they are routed before the API token.
    const hooks = triggers?.webhooks;
    const hooksPrefix = natsLayer?.HOOKS_PREFIX;
    const handler = hooks && hooksPrefix !== undefined
      ? (request: Request) =>
        !draining && new URL(request.url).pathname.startsWith(hooksPrefix)
          ? hooks(request)
          : api(request)
      : api;
    // Deno.serve has no header timeout nor connection limit: it listens on a private unix
    // socket behind a guard that enforces both, on its own thread (server/_conn_guard.ts).
    socketDir = await Deno.makeTempDir({ prefix: "pipedreamer-http-" });
    const backendPath = join(socketDir, "http.sock");
    const ready = Promise.withResolvers<void>();
    server = Deno.serve({
      path: backendPath,
      onListen: () => ready.resolve(),
      onError: (error) => {
        reportError(error);
        return new Response('{"error":{"code":"internal","message":"Internal server error"}}', {
          status: 500,
          headers: { "content-type": "application/json" },
        });
      },
    }, handler);
    await ready.promise;
    guard = await booting.start({ hostname, port, backendPath, ...options.connections });
    const addr = guard.addr;
    const url = urlOf(addr.hostname, addr.port);
    emit({ type: "listening", url, hostname: addr.hostname, port: addr.port });
    if (dev) {
      const live = manager;
      reloader = devReload(dir, {
        current: workflow,
        load: (path) => snapshots.load(path),
        clock: options.clock,
        onReload: (next) => {
          try {
            live.reload(next);
            emit({ type: "reloaded", workflow: next });
          } catch (error) {
            emit({ type: "reload-failed", error });
          }
          prune();
        },
        onError: (error) => emit({ type: "reload-failed", error }),
      });
    }

    const running = manager;
    const http = server;
    const front = guard;
    const sockets = socketDir;
    const stopped = Promise.withResolvers<void>();
    let stopping: Promise<void> | undefined;
    const shutdown = () =>
      stopping ??= (async () => {
        draining = true;
        emit({ type: "draining", graceMs });
        await reloader?.close();
        await triggers?.stop();
        await running.drain(graceMs);
        await triggers?.close();
        await running.close();
        await tracer?.shutdown().catch(reportError);
        streams.abort();
        // Idle and finished connections close at once; a client still sending a body nobody
        // reads (or a slow one) is not waited for longer than this.
        front.stopAccepting();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          http.shutdown(),
          new Promise((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)),
        ]);
        clearTimeout(timer);
        await front.close();
        await Deno.remove(sockets, { recursive: true }).catch(() => {});
        await store.close();
        lock?.release();
        emit({ type: "stopped" });
      })().then(stopped.resolve, (error) => {
        stopped.reject(error);
        throw error;
      });
    return {
      url,
      hostname: addr.hostname,
      port: addr.port,
      manager: running,
      shutdown,
      finished: stopped.promise,
    };
  } catch (error) {
    await reloader?.close();
    await guard?.close();
    await server?.shutdown();
    if (socketDir) await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    await nats?.close();
    await manager?.close();
    await tracer?.shutdown().catch(() => {});
    await store.close();
    lock?.release();
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `Cannot listen on ${urlOf(hostname, port)}: the address is in use; pick another --port`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The SQLite file `openStore()` opens for `url`, or undefined for another store. */
function sqliteFileOf(url: string | undefined, dataDir: string): string | undefined {
  if (url !== undefined && !url.startsWith("sqlite:")) return undefined;
  const path = url?.slice("sqlite:".length).replace(/^\/\//, "") || join(dataDir, "runs.db");
  return path === ":memory:" ? path : resolve(path);
}

/** The web dashboard over `manager`: its data behind the same token as the API. */
function dashboardOf(
  manager: RunManager,
  token: string | undefined,
  signal: AbortSignal,
): HandlerOptions["dashboard"] {
  return createDashboard({
    workflow: () => manager.workflow,
    authenticate: token ? createAuthenticator(token) : undefined,
    subscribe: (runId, listener) => manager.subscribe(runId, listener),
    signal,
  });
}

/**
 * Queue triggers and webhooks when `natsUrl` is set (warnings and errors become error events);
 * without it, a workflow that declares them gets one error event saying they are inactive.
 */
async function startQueueTriggersOf(
  workflow: CompiledWorkflow,
  natsUrl: string | undefined,
  manager: CanaryQueueRuns,
  secrets: Record<string, unknown>,
  reportError: (error: unknown) => void,
): Promise<NatsTriggers | undefined> {
  const declared = workflow.triggers.some((t) => t.type === "queue") ||
    Object.keys(workflow.webhooks ?? {}).length > 0;
  if (!natsUrl) {
    if (declared) {
      reportError(
        new Error("Queue triggers and webhooks are inactive: start with --nats-url <url>"),
      );
    }
    return undefined;
  }
  const { startNatsTriggers } = await import("../triggers/mod.ts");
  return await startNatsTriggers(workflow, {
    natsUrl,
    runs: manager,
    secrets,
    log: (level, message, fields) => {
      if (level === "info") return;
      reportError(new Error(fields ? `${message} ${JSON.stringify(fields)}` : message));
    },
  });
}
