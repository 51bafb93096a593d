/**
 * Entry script of a sandbox process (see engine/runners/process_runner.ts): the node host of
 * engine/runners/_node_host.ts over a Unix socket to the engine, one JSON message per line.
 * Arguments: the socket path, the bell path ("" for none) and the idle spin in microseconds.
 * The process was started with exactly its nodes' Deno permissions (plus access to its socket
 * and bell) and heap limit; it connects before any node code runs (the engine accepts one
 * connection, then removes the socket) and exits when the engine closes the connection.
 *
 * `Deno.stdin` is taken away, and `Deno.stdout`, `Deno.stderr`, `process.stdout` and
 * `process.stderr` write log lines of the call instead.
 *
 * @module
 */

import process from "node:process";
import { startNodeHost } from "./_node_host.ts";
import { LineWriter, readLines } from "./_frame_stream.ts";

const exit = Deno.exit.bind(Deno);
const [socketPath, bellPath, spinUs] = Deno.args;
const conn = await Deno.connect({ transport: "unix", path: socketPath! });
/**
 * The bell as it was when the last post left the process idle; set while the process should
 * spin once that post is written (see {@link spinForNextCall}).
 */
let idleSince: number | undefined;
const writer = new LineWriter(Promise.resolve(conn), () => exit(0), () => spinForNextCall());

/**
 * The bell: a 4-byte file the engine rewrites after every message it sends (its path is the
 * second argument). With no call left, the process polls it a moment instead of letting its
 * thread sleep, since waking a sleeping process costs more than the rest of a warm call; it
 * stops polling while polls mostly run out (and tries again now and then).
 */
const idleSpinMs = Number(spinUs ?? "0") / 1000;
const bell = bellPath ? Deno.openSync(bellPath, { read: true }) : undefined;
const rung = new Uint8Array(4);
/** Moving average of whether a spin caught the next call (1) or ran out (0). */
let hitRate = 1;
let skipped = 0;
/** While spins mostly miss, one idle moment in this many still spins, to notice a change. */
const PROBE_EVERY = 16;

function readBell(): number {
  bell!.seekSync(0, Deno.SeekMode.Start);
  bell!.readSync(rung);
  return rung[0]! | (rung[1]! << 8) | (rung[2]! << 16) | (rung[3]! << 24);
}

/** After a post that left no call running: whether to spin once it is written. */
function afterPost(running: number): void {
  idleSince = undefined;
  if (bell === undefined || idleSpinMs <= 0 || running > 0) return;
  if (hitRate < 0.5 && ++skipped < PROBE_EVERY) return;
  skipped = 0;
  idleSince = readBell();
}

/**
 * Spins once the messages of an idle post have been written (the engine cannot answer them
 * before), unless a message came in since.
 */
function spinForNextCall(): void {
  const before = idleSince;
  if (before === undefined) return;
  idleSince = undefined;
  const until = performance.now() + idleSpinMs;
  let now = readBell();
  while (now === before && performance.now() < until) now = readBell();
  hitRate += ((now !== before ? 1 : 0) - hitRate) / 8;
}

const receive = startNodeHost({
  post: (message) => writer.send(message),
  afterPost,
});

/** A stream that becomes log lines (through the console, which the node host redirected). */
function logStream(level: "info" | "warn") {
  const decoder = new TextDecoder();
  const log = (chunk: Uint8Array | string) => {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk);
    console[level](text.replace(/\n$/, ""));
  };
  return {
    write(chunk: Uint8Array) {
      log(chunk);
      return Promise.resolve(chunk.length);
    },
    writeSync(chunk: Uint8Array) {
      log(chunk);
      return chunk.length;
    },
    nodeWrite(chunk: Uint8Array | string, ...rest: unknown[]) {
      log(chunk);
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      callback?.();
      return true;
    },
  };
}

const out = logStream("info");
const err = logStream("warn");
Object.defineProperty(Deno, "stdin", {
  get() {
    throw new Error("Cannot read stdin from a node: nodes get their data as input");
  },
});
Object.defineProperty(Deno, "stdout", { value: { ...out, isTerminal: () => false } });
Object.defineProperty(Deno, "stderr", { value: { ...err, isTerminal: () => false } });
try {
  process.stdout.write = out.nodeWrite as typeof process.stdout.write;
  process.stderr.write = err.nodeWrite as typeof process.stderr.write;
} catch {
  // Not writable in this runtime: those writes reach stderr, which the engine only keeps as a
  // crash diagnostic.
}

try {
  await readLines(conn, (line) => {
    idleSince = undefined;
    receive(JSON.parse(line));
  });
} finally {
  exit(0);
}
