/**
 * Test support shared by the layers whose tests start a real server (PostgreSQL, nats-server):
 * spawn it, wait until a line of its stderr says it is ready, stop it on demand.
 *
 * @module
 */

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions<T> {
  /** Name used in errors, e.g. "nats-server". */
  name: string;
  /** Reads one stderr line; a value other than undefined means the server is ready. */
  ready: (line: string) => T | undefined;
  /** How long to wait for readiness. @default 30_000 */
  timeoutMs?: number;
  /** Signal that stops the server. @default "SIGTERM" */
  stopSignal?: Deno.Signal;
  /** Runs after the server exited, on stop and on a failed start (e.g. deletes its files). */
  cleanup?: () => Promise<void>;
}

/** A started server. */
export interface SpawnedServer<T> {
  /** What `ready` returned for the ready line. */
  value: T;
  /** Stops the server, waits for it and runs `cleanup`; idempotent. */
  stop(): Promise<void>;
}

/** How many of the server's last stderr lines an error quotes. */
const LOG_LINES = 100;

/**
 * Spawns `command` (its stderr must be piped) and resolves once `ready` accepts a stderr line.
 *
 * @throws {Error} "Cannot start <name>: it exited|timeout: <last stderr lines>"
 * @example
 * ```ts
 * const server = await spawnServer(
 *   new Deno.Command("nats-server", { args: ["-p", "-1"], stderr: "piped" }),
 *   { name: "nats-server", ready: (line) => /Server is ready/.test(line) || undefined },
 * );
 * await server.stop();
 * ```
 */
export async function spawnServer<T>(
  command: Deno.Command,
  options: SpawnServerOptions<T>,
): Promise<SpawnedServer<T>> {
  const child = command.spawn();
  const log: string[] = [];
  const { promise: ready, resolve: markReady } = Promise.withResolvers<{ value: T }>();
  const drained = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        if (log.length > LOG_LINES) log.shift();
        const value = options.ready(line);
        if (value !== undefined) markReady({ value });
      }
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready,
    child.status.then(() => "exited" as const),
    new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), options.timeoutMs ?? 30_000)
    ),
  ]);
  clearTimeout(timer);
  const settle = async () => {
    await child.status;
    await drained;
    await options.cleanup?.();
  };
  if (typeof outcome === "string") {
    if (outcome === "timeout") child.kill("SIGKILL");
    await settle();
    throw new Error(`Cannot start ${options.name}: it ${outcome}: ${log.join("\n")}`);
  }
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill(options.stopSignal ?? "SIGTERM");
      } catch {
        // Already exited.
      }
      await settle();
    })();
  return { value: outcome.value, stop };
}
