/**
 * Entry script of a sandbox process (see engine/runners/process_runner.ts): the node host of
 * engine/runners/_node_host.ts over the process's pipes, one JSON message per line (stdin from
 * the engine, stdout to it). The process was started with exactly its nodes' Deno permissions
 * and heap limit; it exits when the engine closes its stdin.
 *
 * Node code cannot reach the pipes: `Deno.stdin` is taken away, and `Deno.stdout`,
 * `Deno.stderr`, `process.stdout` and `process.stderr` write log lines of the call instead.
 * Bytes that still reach stdout some other way break only this sandbox (the engine stops it).
 *
 * @module
 */

import process from "node:process";
import { startNodeHost } from "./_node_host.ts";

const stdin = Deno.stdin;
const stdout = Deno.stdout;
const exit = Deno.exit.bind(Deno);
const encoder = new TextEncoder();

function writeAll(bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += stdout.writeSync(bytes.subarray(offset));
}

const receive = startNodeHost({
  post: (message) => writeAll(encoder.encode(JSON.stringify(message) + "\n")),
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

const buffer = new Uint8Array(1 << 16);
const decoder = new TextDecoder();
let pending = "";
for (;;) {
  const n = await stdin.read(buffer);
  if (n === null) break;
  pending += decoder.decode(buffer.subarray(0, n), { stream: true });
  let newline: number;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    if (line !== "") receive(JSON.parse(line));
  }
}
exit(0);
