/**
 * The durable-execution peers of the bench, each started by the bench on loopback ephemeral
 * ports and stopped at the end:
 * - Restate: restate-server (npm `@restatedev/restate-server-linux-x64`, a fresh `--base-dir`,
 *   default durability) and the bench's SDK endpoint (bench/peers_app.mjs under Node.js),
 *   registered with `POST /deployments`;
 * - DBOS Transact on a PostgreSQL the bench starts (Debian's, default settings: fsync and
 *   synchronous_commit on) with its own node:http front (bench/peers_app.mjs).
 *
 * Their npm packages are installed once, with npm, into a cache directory outside the
 * repository (like BullMQ's).
 *
 * @module
 */

import { delimiter, join } from "node:path";
import { BENCH_DIR, freePort, which } from "./_paths.ts";

/** Pinned versions of the peers. */
export const PEER_DEPS = {
  "@restatedev/restate-server": "1.7.12",
  "@restatedev/restate-server-linux-x64": "1.7.12",
  "@restatedev/restate-sdk": "1.17.2",
  "@dbos-inc/dbos-sdk": "5.3.0",
} as const;

/** The handlers every peer offers (see bench/peers_app.mjs). */
export type PeerHandler = "three" | "chain" | "fanout";

/** A started peer. */
export interface Peer {
  /** The URL of `handler` (POST, JSON body, JSON `{ "result": n }` answer). */
  url(handler: PeerHandler): string;
  /** The processes whose CPU time is the peer's (with their descendants). */
  pids(): number[];
  stop(): Promise<void>;
}

function depsDir(): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  const tag = `${PEER_DEPS["@restatedev/restate-server"]}-${PEER_DEPS["@dbos-inc/dbos-sdk"]}`;
  return join(cache, "pipedreamer-bench", `peers-${tag}`);
}

/**
 * Installs the peers' npm packages into the cache directory when they are missing. Returns a
 * reason when they cannot run here.
 */
export async function preparePeers(): Promise<{ dir: string } | { skipped: string }> {
  const node = await which("node");
  const npm = await which("npm");
  if (!node || !npm) return { skipped: "node/npm not installed" };
  const dir = depsDir();
  try {
    await Deno.stat(join(dir, "node_modules", "@dbos-inc", "dbos-sdk", "package.json"));
    await Deno.stat(restateBinary(dir));
    return { dir };
  } catch {
    // not installed yet
  }
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "package.json"),
    JSON.stringify({ private: true, dependencies: PEER_DEPS }, null, 2),
  );
  const { code, stderr } = await new Deno.Command(npm, {
    args: ["install", "--no-audit", "--no-fund", "--loglevel=error"],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    return { skipped: `npm install failed: ${new TextDecoder().decode(stderr).trim()}` };
  }
  return { dir };
}

function restateBinary(dir: string): string {
  return join(
    dir,
    "node_modules",
    "@restatedev",
    "restate-server-linux-x64",
    "bin",
    "restate-server",
  );
}

/** A child process whose output is collected (last 4 KiB) and which is killed on stop. */
interface Child {
  process: Deno.ChildProcess;
  output(): string;
  /** Resolves with the first stdout line matching `pattern`; rejects when the process exits. */
  waitFor(pattern: RegExp): Promise<string>;
  stop(signal?: Deno.Signal): Promise<void>;
}

function spawn(command: string, options: Deno.CommandOptions): Child {
  const process = new Deno.Command(command, {
    ...options,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const waiters: { pattern: RegExp; resolve(line: string): void }[] = [];
  const read = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      text = (text + chunk).slice(-4096);
      for (const waiter of [...waiters]) {
        const match = waiter.pattern.exec(text);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match[0]);
        }
      }
    }
  };
  const drained = Promise.all([read(process.stdout), read(process.stderr)]).catch(() => {});
  let stopping: Promise<void> | undefined;
  return {
    process,
    output: () => text,
    waitFor: (pattern) => {
      const match = pattern.exec(text);
      if (match) return Promise.resolve(match[0]);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        process.status.then((status) =>
          reject(
            new Error(
              `Cannot start ${command}: it exited with ${status.code}; output: ${
                text.slice(-1500)
              }`,
            ),
          )
        );
      });
    },
    stop: (signal = "SIGTERM") =>
      stopping ??= (async () => {
        try {
          process.kill(signal);
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill("SIGKILL");
          } catch {
            // gone
          }
        }, 10_000);
        await process.status;
        clearTimeout(timer);
        await drained;
      })(),
  };
}

/** GETs or POSTs until `ok`, for at most `timeoutMs`. */
async function until(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<boolean>,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      if (await attempt()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`Cannot start ${what}: not ready after ${timeoutMs} ms (${String(last)})`);
}

function peerApp(mode: "restate" | "dbos", spec: Record<string, unknown>): Child {
  return spawn("node", {
    args: [join(BENCH_DIR, "peers_app.mjs"), mode, JSON.stringify(spec)],
    env: { NODE_ENV: "production" },
  });
}

/** Starts restate-server and the SDK endpoint and registers it; resolves once it answers. */
export async function startRestate(depsDir: string): Promise<Peer> {
  const baseDir = await Deno.makeTempDir({ prefix: "pipedreamer-bench-restate-" });
  const [ingress, admin, node, sdk] = [freePort(), freePort(), freePort(), freePort()];
  const server = spawn(restateBinary(depsDir), {
    args: ["--base-dir", baseDir, "--no-logo"],
    env: {
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
      RESTATE_BIND_ADDRESS: `127.0.0.1:${node}`,
      RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${node}/`,
      RESTATE_LISTEN_MODE: "tcp",
      RESTATE_DISABLE_TELEMETRY: "true",
      RESTATE_LOG_FILTER: "warn",
    },
  });
  const app = peerApp("restate", { depsDir, port: sdk });
  const stop = async () => {
    await Promise.all([app.stop(), server.stop()]);
    await Deno.remove(baseDir, { recursive: true }).catch(() => {});
  };
  try {
    const exited = Promise.race([server.process.status, app.process.status]).then(() => {
      throw new Error(
        `Cannot start Restate: a process exited; server: ${server.output().slice(-1500)}; ` +
          `endpoint: ${app.output().slice(-1500)}`,
      );
    });
    const ready = (async () => {
      await app.waitFor(/READY/);
      await until("restate-server", 30_000, async () => {
        const response = await fetch(`http://127.0.0.1:${admin}/health`);
        await response.body?.cancel();
        return response.ok;
      });
      await until("the Restate deployment", 30_000, async () => {
        const response = await fetch(`http://127.0.0.1:${admin}/deployments`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ uri: `http://127.0.0.1:${sdk}`, force: true }),
        });
        await response.body?.cancel();
        return response.ok;
      });
    })();
    await Promise.race([ready, exited]);
    exited.catch(() => {});
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: (handler) => `http://127.0.0.1:${ingress}/bench/${handler}`,
    pids: () => [server.process.pid, app.process.pid],
    stop,
  };
}

/** PostgreSQL's binaries: Debian's newest /usr/lib/postgresql/<v>/bin, else PATH. */
function postgresBin(): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(
      ...[...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name)
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`),
    );
  } catch {
    // not a Debian-style install
  }
  candidates.push(...(Deno.env.get("PATH") ?? "").split(delimiter).filter(Boolean));
  return candidates.find((dir) => {
    try {
      return Deno.statSync(join(dir, "pg_ctl")).isFile && Deno.statSync(join(dir, "initdb")).isFile;
    } catch {
      return false;
    }
  });
}

/** A PostgreSQL cluster with its default settings (fsync on, synchronous_commit on). */
export interface PostgresCluster {
  /** Starts the server; resolves with its port once it accepts connections. */
  start(): Promise<number>;
  /** The postmaster's pid while it runs (its backends are its children). */
  pid(): number | undefined;
  /** Stops the server (fast shutdown). */
  stop(): Promise<void>;
  /** Stops the server and removes the cluster. */
  remove(): Promise<void>;
}

/**
 * Creates a cluster with `initdb` in a temp dir (as the postgres user when running as root:
 * PostgreSQL refuses root). Undefined when PostgreSQL is not installed.
 */
export async function createPostgres(): Promise<PostgresCluster | undefined> {
  const bin = postgresBin();
  if (!bin) return undefined;
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-bench-pg-" });
  let user: { uid?: number; gid?: number } = {};
  if (Deno.uid() === 0) {
    const fields = (await Deno.readTextFile("/etc/passwd")).split("\n")
      .find((line) => line.startsWith("postgres:"))?.split(":");
    if (!fields) throw new Error("Cannot start PostgreSQL as root: there is no postgres user");
    user = { uid: Number(fields[2]), gid: Number(fields[3]) };
    await Deno.chown(root, user.uid!, user.gid!);
  }
  const data = join(root, "data");
  const run = async (command: string, args: string[]) => {
    const { code, stderr, stdout } = await new Deno.Command(join(bin, command), {
      args,
      env: { LC_ALL: "C" },
      ...user,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      const decode = (b: Uint8Array) => new TextDecoder().decode(b);
      throw new Error(`Cannot run ${command}: exit ${code}: ${decode(stderr)}${decode(stdout)}`);
    }
  };
  await run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"]);
  let running = false;
  const stop = async () => {
    if (!running) return;
    running = false;
    await run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  };
  let postmaster: number | undefined;
  return {
    pid: () => postmaster,
    async start() {
      const port = freePort();
      await run("pg_ctl", [
        ...["-D", data, "-w", "-l", join(root, "log"), "start"],
        "-o",
        `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      ]);
      running = true;
      postmaster = Number((await Deno.readTextFile(join(data, "postmaster.pid"))).split("\n")[0]);
      return port;
    },
    stop,
    async remove() {
      await stop().catch(() => {});
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Starts the DBOS app on `databaseUrl` (a database it may create); resolves once it answers. */
export async function startDbos(depsDir: string, databaseUrl: string): Promise<Peer> {
  const port = freePort();
  const app = peerApp("dbos", { depsDir, port, databaseUrl, poolSize: 20 });
  try {
    await app.waitFor(/READY/);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return {
    url: (handler) => `http://127.0.0.1:${port}/${handler}`,
    pids: () => [app.process.pid],
    stop: () => app.stop(),
  };
}
