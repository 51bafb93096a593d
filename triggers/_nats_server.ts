/**
 * A real, throwaway NATS server with JetStream for tests: `nats-server -js` on a random loopback
 * port (chosen by the server itself, so there is no port race), its store in a temp dir that is
 * deleted on stop.
 *
 * @module
 */

import { delimiter, join } from "node:path";

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
  if (findNatsServer() !== undefined || Deno.env.get("CI") === "true") return false;
  console.warn(
    "SKIPPED: NATS tests need nats-server with JetStream (apt-get install nats-server); " +
      "with CI=true they fail instead",
  );
  return true;
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
 * import { startNatsServer } from "./_nats_server.ts";
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
  const child = new Deno.Command(bin, {
    args: [
      ...["-js", "-a", "127.0.0.1", "-p", "-1", "-sd", storeDir],
      ...(options.token ? ["--auth", options.token] : []),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const { promise: listening, resolve: markListening } = Promise.withResolvers<number>();
  const drained = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        if (log.length > 100) log.shift();
        const match = LISTENING.exec(line);
        if (match) markListening(Number(match[1]));
      }
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    listening,
    child.status.then(() => "exited" as const),
    new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS)
    ),
  ]);
  clearTimeout(timer);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.status;
      await drained;
      await Deno.remove(storeDir, { recursive: true });
    })();
  if (typeof outcome !== "number") {
    if (outcome === "timeout") child.kill("SIGKILL");
    await child.status;
    await drained;
    await Deno.remove(storeDir, { recursive: true });
    throw new Error(`Cannot start nats-server: it ${outcome}: ${log.join("\n")}`);
  }
  return {
    port: outcome,
    url: `nats://127.0.0.1:${outcome}`,
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
