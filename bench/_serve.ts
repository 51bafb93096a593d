/**
 * A real `pipedreamer serve` process for the HTTP and start-up workloads: started from source
 * through `./pipedreamer` (as an operator would), on an ephemeral loopback port, with the SQLite
 * store in a temp dir and no auth; stopped with SIGTERM.
 *
 * @module
 */

import { join } from "node:path";
import { BENCH_DIR, REPO_ROOT } from "./_paths.ts";

/** A running `serve`. */
export interface ServeProcess {
  url: string;
  pid: number;
  /** Spawn → first `GET /health` answered 200, in ms. */
  readyMs: number;
  stop(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/\S+)/;

/** Options of {@link startServe}. */
export interface StartServeOptions {
  /**
   * Start `startServer()` through bench/_lean_serve.ts instead of the CLI (no CLI imports).
   * @default false
   */
  lean?: boolean;
  /** `serve --durability` (CLI only). @default the server's default, "full" */
  durability?: "full" | "relaxed";
  /** The checkout whose `./pipedreamer` is started (CLI only). @default this one */
  root?: string;
}

/**
 * Starts `./pipedreamer serve <dir>` and waits until `/health` answers 200.
 *
 * @throws {Error} when the process exits before it is ready
 */
export async function startServe(
  dir: string,
  dataDir: string,
  options: StartServeOptions = {},
): Promise<ServeProcess> {
  const started = performance.now();
  const [command, args] = options.lean
    ? [Deno.execPath(), [
      "run",
      "--allow-all",
      "--no-prompt",
      "--unstable-worker-options",
      "--config",
      join(REPO_ROOT, "deno.json"),
      join(BENCH_DIR, "_lean_serve.ts"),
      dir,
      dataDir,
    ]]
    : [join(options.root ?? REPO_ROOT, "pipedreamer"), [
      "serve",
      dir,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--no-auth",
      "--data",
      dataDir,
      ...(options.durability ? ["--durability", options.durability] : []),
    ]];
  const child = new Deno.Command(command, {
    args,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`Cannot start serve for "${dir}": it exited; stderr: ${seen.slice(-2000)}`);
    }
    seen += value;
    url = LISTENING.exec(seen)?.[1];
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard the server's log */ }
  })();
  // The listening line comes after the socket is bound: /health must answer now.
  for (let attempt = 1;; attempt++) {
    const response = await fetch(`${url}/health`);
    await response.body?.cancel();
    if (response.ok) break;
    if (attempt >= 1000) {
      child.kill("SIGTERM");
      throw new Error(`Cannot start serve for "${dir}": /health answers ${response.status}`);
    }
  }
  const readyMs = performance.now() - started;
  return {
    url,
    pid: child.pid,
    readyMs,
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
