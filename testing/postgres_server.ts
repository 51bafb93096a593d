/**
 * A real, throwaway PostgreSQL server for tests: initdb into a temp dir, `postgres` on an
 * ephemeral loopback port (its unix socket inside the temp dir), everything deleted on stop.
 *
 * @module
 */

// @ts-types="@types/pg"
import pg from "pg";
import { delimiter, join } from "node:path";
import { ignoreWhenMissing } from "./ignore_without.ts";
import { spawnServer } from "./spawn_server.ts";

const START_TIMEOUT_MS = 30_000;

/** A running test server. */
export interface PostgresServer extends AsyncDisposable {
  /** Loopback port it listens on. */
  readonly port: number;
  /** URL of its `postgres` database (user `postgres`, trust auth). */
  readonly url: string;
  /** Creates a new empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server and deletes its files; idempotent. */
  stop(): Promise<void>;
}

/**
 * Directory holding `initdb` and `postgres` (newest /usr/lib/postgresql/<ver>/bin, then PATH),
 * or undefined when PostgreSQL is not installed.
 */
export function findPostgresBinaries(): string | undefined {
  const candidates: string[] = [];
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => entry.name)
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // Not a Debian-style install; PATH may still have it.
  }
  candidates.push(...(Deno.env.get("PATH") ?? "").split(delimiter).filter(Boolean));
  return candidates.find((dir) => isFile(join(dir, "initdb")) && isFile(join(dir, "postgres")));
}

/**
 * The `ignore` value for a `Deno.test` that needs PostgreSQL: true, with a loud warning, when it
 * is not installed, except under CI=true where the test runs and fails in
 * {@link startPostgresServer}.
 */
export function ignoreWithoutPostgres(): boolean {
  return ignoreWhenMissing(
    findPostgresBinaries() === undefined,
    "PostgreSQL tests need initdb and postgres (apt-get install postgresql)",
  );
}

/**
 * Starts a PostgreSQL server for one test file. When running as root it runs as the `postgres`
 * user (PostgreSQL refuses root).
 *
 * @throws {Error} when PostgreSQL is not installed or does not start
 * @example
 * ```ts
 * import { startPostgresServer } from "./postgres_server.ts";
 * await using server = await startPostgresServer();
 * const url = await server.createDatabase();
 * ```
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = findPostgresBinaries();
  if (!bin) {
    throw new Error(
      "Cannot start PostgreSQL: initdb and postgres not found in /usr/lib/postgresql/*/bin or PATH; install the postgresql package",
    );
  }
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-pg-" });
  try {
    const user = Deno.uid() === 0 ? await postgresUser() : {};
    if (user.uid !== undefined) await Deno.chown(root, user.uid, user.gid!);
    const data = join(root, "data");
    const init = await new Deno.Command(join(bin, "initdb"), {
      args: ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N"],
      env: { LC_ALL: "C" },
      ...user,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!init.success) {
      throw new Error(`Cannot start PostgreSQL: initdb failed: ${decode(init.stderr)}`);
    }
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await launch(bin, root, data, user);
      } catch (error) {
        lastError = error as Error;
        if (!/could not bind|already in use/i.test(lastError.message)) break;
      }
    }
    throw lastError;
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    throw error;
  }
}

async function launch(
  bin: string,
  root: string,
  data: string,
  user: { uid?: number; gid?: number },
): Promise<PostgresServer> {
  const port = freePort();
  const server = await spawnServer(
    new Deno.Command(join(bin, "postgres"), {
      args: [
        ...["-D", data, "-p", String(port), "-k", root, "-c", "listen_addresses=127.0.0.1"],
        // Durability is irrelevant for a throwaway test server; speed is not.
        ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        ...["-c", "max_connections=200"],
      ],
      env: { LC_ALL: "C" },
      ...user,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }),
    {
      name: "PostgreSQL",
      ready: (line) => line.includes("ready to accept connections") || undefined,
      timeoutMs: START_TIMEOUT_MS,
      stopSignal: "SIGINT", // fast shutdown: disconnect clients, no waiting
    },
  );
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await server.stop();
      await Deno.remove(root, { recursive: true });
    })();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let databases = 0;
  return {
    port,
    url,
    async createDatabase(name = `test_${++databases}_${crypto.randomUUID().slice(0, 8)}`) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
        throw new TypeError(`Cannot create database: name "${name}" must match [a-z_][a-z0-9_]*`);
      }
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  const passwd = await Deno.readTextFile("/etc/passwd");
  const fields = passwd.split("\n").find((line) => line.startsWith("postgres:"))?.split(":");
  if (!fields) {
    throw new Error("Cannot start PostgreSQL as root: no postgres user; run the tests as non-root");
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
