/**
 * A real, throwaway NATS server with JetStream for tests: `nats-server -js` on a random loopback
 * port (chosen by the server itself, so there is no port race), its store in a temp dir that is
 * deleted on stop.
 *
 * @module
 */

import { delimiter, join } from "node:path";
import { ignoreWhenMissing } from "./ignore_without.ts";
import { spawnServer } from "./spawn_server.ts";

const START_TIMEOUT_MS = 20_000;
const LISTENING = /Listening for client connections on [^\s]+:(\d+)/;

/** A running test server. */
export interface NatsServer extends AsyncDisposable {
  /** Loopback port it listens on. */
  readonly port: number;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its JetStream store directory. */
  readonly storeDir: string;
  /** Stops the server and deletes its files; idempotent. */
  stop(): Promise<void>;
}

/** Path of `nats-server` (/usr/sbin, /usr/bin, then PATH), or undefined when not installed. */
export function findNatsServer(): string | undefined {
  const dirs = ["/usr/sbin", "/usr/bin", "/usr/local/bin"];
  dirs.push(...(Deno.env.get("PATH") ?? "").split(delimiter).filter(Boolean));
  return dirs.map((dir) => join(dir, "nats-server")).find(isFile);
}

/**
 * The `ignore` value for a `Deno.test` that needs nats-server: true, with a loud warning, when
 * it is not installed, except under CI=true where the test runs and fails in
 * {@link startNatsServer}.
 */
export function ignoreWithoutNats(): boolean {
  return ignoreWhenMissing(
    findNatsServer() === undefined,
    "NATS tests need nats-server with JetStream (apt-get install nats-server)",
  );
}

/** Options of {@link startNatsServer}. */
export interface StartNatsServerOptions {
  /** Require this client token (`--auth`). @default undefined (no auth) */
  token?: string;
}

/**
 * Starts `nats-server -js` for one test (file).
 *
 * @throws {Error} when nats-server is not installed or does not start
 * @example
 * ```ts
 * import { startNatsServer } from "./nats_server.ts";
 * await using server = await startNatsServer();
 * console.log(server.url);
 * ```
 */
export async function startNatsServer(
  options: StartNatsServerOptions = {},
): Promise<NatsServer> {
  const bin = findNatsServer();
  if (!bin) {
    throw new Error(
      "Cannot start nats-server: not found in /usr/sbin, /usr/bin or PATH; install the " +
        "nats-server package (2.9 or newer, for JetStream)",
    );
  }
  const storeDir = await Deno.makeTempDir({ prefix: "pipedreamer-nats-" });
  const server = await spawnServer(
    new Deno.Command(bin, {
      args: [
        ...["-js", "-a", "127.0.0.1", "-p", "-1", "-sd", storeDir],
        ...(options.token ? ["--auth", options.token] : []),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }),
    {
      name: "nats-server",
      ready: (line) => {
        const match = LISTENING.exec(line);
        return match ? Number(match[1]) : undefined;
      },
      timeoutMs: START_TIMEOUT_MS,
      cleanup: () => Deno.remove(storeDir, { recursive: true }),
    },
  );
  const stop = server.stop;
  const port = server.value;
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
