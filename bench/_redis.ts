/**
 * A throwaway Redis server for the BullMQ system: Debian's redis-server on an ephemeral
 * loopback port, no persistence, stopped by the bench.
 *
 * @module
 */

import { freePort, which } from "./_paths.ts";

/** A running redis-server. */
export interface RedisServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts redis-server; undefined when it is not installed. */
export async function startRedis(): Promise<RedisServer | undefined> {
  const binary = await which("redis-server");
  if (!binary) return undefined;
  const port = freePort();
  const child = new Deno.Command(binary, {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("Ready to accept connections")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`Cannot start redis-server on port ${port}: it exited; output: ${seen}`);
    }
    seen += value;
  }
  // Keep draining its output so it never blocks on a full pipe.
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await drain.catch(() => {});
    },
  };
}
