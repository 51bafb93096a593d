/**
 * End-to-end helpers for `dev` and `serve`: the real CLI in a subprocess, waited on by the
 * lines it prints (never by sleeps), and a loopback callback server that counts node executions
 * and holds nodes until the test releases them.
 *
 * @module
 */

import { cliCommand, type CliOptions } from "./_cli.ts";

/** A running `pipedreamer serve|dev` process. */
export interface ServeProcess {
  readonly child: Deno.ChildProcess;
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stderr matches `pattern` (from the start). */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  readonly status: Promise<Deno.CommandStatus>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `pipedreamer <args>` and resolves once it printed `listening on <url>`; rejects with
 * its stderr when it exits first.
 */
export async function startServe(args: string[], options: CliOptions = {}): Promise<ServeProcess> {
  const child = cliCommand(args, options).spawn();
  let text = "";
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = text.match(waiter.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      check();
    }
  })();
  const draining = child.stdout.pipeTo(new WritableStream());
  const status = Promise.all([child.status, reading, draining]).then(([s]) => s);
  const waitForStderr = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      waiters.push({ pattern, resolve });
      check();
      status.then((s) => {
        const match = text.match(pattern);
        if (match) resolve(match);
        else reject(new Error(`exited (${s.code}) before printing ${pattern}:\n${text}`));
      });
    });
  const [, url, port] = await waitForStderr(/listening on (http:\/\/[^\s]+:(\d+))\n/);
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
    return await status;
  };
  return {
    child,
    url: url!,
    port: Number(port),
    stderr: () => text,
    waitForStderr,
    stop,
    status,
    [Symbol.asyncDispose]: async () => void await stop("SIGKILL"),
  };
}

/** A free loopback TCP port (for a restart on the same port). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * The loopback server nodes of tests/testdata/gated call back to: `POST /<node>?run=<id>`.
 * It counts calls per node and run, and holds the calls of held nodes until released.
 */
export class CallbackServer {
  readonly calls: { node: string; run: string }[] = [];
  readonly #held = new Map<string, PromiseWithResolvers<void>>();
  readonly #waiters: { test: () => boolean; resolve: () => void }[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      const node = url.pathname.slice(1);
      this.calls.push({ node, run: url.searchParams.get("run") ?? "" });
      this.#check();
      await this.#held.get(node)?.promise;
      await req.body?.cancel();
      return Response.json({ node, call: this.count(node) });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Calls of `node` (of one run when `run` is given). */
  count(node: string, run?: string): number {
    return this.calls.filter((c) => c.node === node && (run === undefined || c.run === run)).length;
  }

  /** Calls of `node` wait until {@link release}. */
  hold(node: string): void {
    if (!this.#held.has(node)) this.#held.set(node, Promise.withResolvers<void>());
  }

  /** Answers the held calls of `node` and stops holding it. */
  release(node: string): void {
    this.#held.get(node)?.resolve();
    this.#held.delete(node);
  }

  /** Resolves once `node` was called `count` times (by `run`, when given). */
  waitForCall(node: string, count = 1, run?: string): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ test: () => this.count(node, run) >= count, resolve });
      this.#check();
    });
  }

  #check(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.test()) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const node of [...this.#held.keys()]) this.release(node);
    await this.#server.shutdown();
  }
}

/** A gated workflow project in a temp dir: token file, config overlay pointing at `callback`. */
export async function gatedProject(callback: CallbackServer): Promise<{
  dir: string;
  data: string;
  configDir: string;
  tokenFile: string;
  token: string;
  [Symbol.asyncDispose](): Promise<void>;
}> {
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-serve-" });
  const dir = `${root}/gated`;
  await Deno.mkdir(`${dir}/nodes`, { recursive: true });
  const source = new URL("./testdata/gated/", import.meta.url);
  for (const file of ["workflow.yaml", "nodes/call.ts"]) {
    await Deno.copyFile(new URL(file, source), `${dir}/${file}`);
  }
  const configDir = `${root}/config`;
  await Deno.mkdir(configDir);
  await Deno.writeTextFile(`${configDir}/callbackUrl`, `${callback.url}\n`);
  const token = `tok-${crypto.randomUUID()}`;
  const tokenFile = `${root}/token`;
  await Deno.writeTextFile(tokenFile, `${token}\n`);
  return {
    dir,
    data: `${root}/data`,
    configDir,
    tokenFile,
    token,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** `serve` arguments for a {@link gatedProject}: loopback, its data, token and config dirs. */
export function gatedServeArgs(
  project: Awaited<ReturnType<typeof gatedProject>>,
  options: { port?: number; grace?: string } = {},
): string[] {
  return [
    "serve",
    project.dir,
    ...["--port", String(options.port ?? 0), "--host", "127.0.0.1"],
    ...["--data", project.data, "--token-file", project.tokenFile],
    ...["--config-dir", project.configDir],
    ...(options.grace === undefined ? [] : ["--grace", options.grace]),
  ];
}

/** Reads server-sent events from a response, one frame at a time. */
export function sseReader(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<{ id?: string; event: string; data: unknown } | undefined> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of raw.split("\n")) {
            const colon = line.indexOf(": ");
            if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
          }
          if (!fields.has("event")) continue;
          return {
            id: fields.get("id"),
            event: fields.get("event")!,
            data: JSON.parse(fields.get("data") ?? "null"),
          };
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += value;
      }
    },
    cancel: () => reader.cancel(),
  };
}
