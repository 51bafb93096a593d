/**
 * The engine side of one sandbox process: a `deno run` child started with exactly its nodes'
 * Deno permissions and a V8 heap limit, talking JSON lines over a Unix socket
 * (engine/runners/_sandbox_process_main.ts). A socket rather than the child's stdin: Deno
 * reads stdin on a blocking thread, a hop that made a warm call several times slower. It sends calls, routes the child's messages to
 * the right call, aborts, and stops the child when a node ignores its signal.
 *
 * Containment: the child is in its own session and process group, has no `run` permission
 * (so neither `Deno.kill` nor `process.kill` reaches the engine), and whatever ends it — a
 * signal it sent itself, its heap limit, a crash of its runtime, bytes that break the
 * protocol — ends only this process. Calls in flight then fail with what happened, or, when
 * another call caused it, are handed back to the runner (`rerun`) to run again without being
 * charged an attempt. When several calls were in flight at a crash, none can be blamed: each
 * runs again alone (`rerun(call, { solo: true })`), and only the one that crashes alone fails.
 *
 * @module
 */

import { FailureKind, NodeFailure } from "../errors.ts";
import type { SandboxDirs } from "./_permissions.ts";
import { abortFailure } from "./_attempt_failure.ts";
import { moduleUrl } from "./_load_node.ts";
import { Outbox } from "./_outbox.ts";
import { LineWriter, readLines } from "./_frame_stream.ts";
import { type PendingCall, PendingCalls } from "./_pending_calls.ts";
import type { FromWorker, Posted, ToWorker } from "./_worker_protocol.ts";
import type { Clock, NodeCall, NodeCallResult } from "../runner_protocol.ts";

/** How a {@link SandboxProcess} is started. */
export interface SandboxProcessOptions {
  /** Pool key. */
  key: string;
  /** The deno executable. */
  deno: string;
  /**
   * Arguments of `deno` (permissions, heap limit, entry script), given the paths the process
   * must also read and write (its socket and bell).
   */
  args(channel: { read: string[]; write: string[]; net: string[] }): string[];
  /**
   * How long the idle process polls its bell for the next call, in microseconds (see
   * engine/runners/_sandbox_process_main.ts); 0 lets it sleep at once.
   */
  idleSpinUs: number;
  env: Record<string, string>;
  dirs: SandboxDirs;
  memoryMiB: number;
  graceMs: number;
  clock?: Clock;
  /** Runs only one call, then stops (`isolation: run`, or a suspect after a crash). */
  solo?: boolean;
  /** Runs a call again elsewhere, uncharged; `solo` for a suspect of a crash. */
  rerun(call: NodeCall, signal: AbortSignal, options: { solo: boolean }): Promise<NodeCallResult>;
  /** Called once when the process must take no new calls. */
  onRetire(sandbox: SandboxProcess): void;
  /** Called once when the process has been stopped or has exited. */
  onExit(sandbox: SandboxProcess): void;
}

/** Stderr kept for the message of a crash. */
const STDERR_TAIL = 8192;
const OUT_OF_MEMORY =
  /Fatal JavaScript out of memory|Reached heap limit|JavaScript heap out of memory|Fatal process out of memory/;

/** One sandbox process, running the calls of the nodes that share its realm key. */
export class SandboxProcess {
  readonly key: string;
  /** Pool bookkeeping: last use, for least-recently-used eviction. */
  lastUsed = 0;
  /** Node files re-imported with a new code hash; each old version stays in memory. */
  staleVersions = 0;
  #options: SandboxProcessOptions;
  #child: Deno.ChildProcess;
  #dir: string;
  #listener: Deno.Listener;
  #conn?: Deno.Conn;
  #writer: LineWriter;
  #calls: PendingCalls;
  #versions = new Map<string, string>();
  #retired = false;
  #stopped = false;
  #stderr = "";
  #ready: Promise<void> | undefined;
  /** Module URLs loaded (or being loaded) ahead of their first call. */
  #loaded = new Map<string, Promise<void>>();
  #loads = new Map<number, () => void>();
  #bell?: Deno.FsFile;
  #rings = new Uint8Array(4);
  #ringCount = 0;
  #outbox = new Outbox<ToWorker>({
    post: (message) => {
      this.#write(message);
      this.#ring();
    },
    failed: (message, error) => this.#calls.failedPost(message, error),
    quietHops: 8,
  });

  /** @throws {Error} When the process cannot be started. */
  constructor(options: SandboxProcessOptions) {
    this.key = options.key;
    this.#options = options;
    this.#calls = new PendingCalls({
      dirs: options.dirs,
      graceMs: options.graceMs,
      clock: options.clock,
      post: (message) => this.#outbox.send(message),
      stopped: "its sandbox process was stopped",
      // Fail it alone; the others in this process run again elsewhere.
      onIgnoredSignal: () => this.stop(),
      onIdle: () => {
        if (this.#retired) this.stop();
      },
    });
    // A private directory (mode 0700) for the socket and the bell.
    this.#dir = Deno.makeTempDirSync({ prefix: "pipedreamer-sandbox-" });
    const socket = `${this.#dir}/socket`;
    const bell = `${this.#dir}/bell`;
    this.#listener = Deno.listen({ transport: "unix", path: socket });
    const spin = options.idleSpinUs > 0;
    if (spin) {
      this.#bell = Deno.openSync(bell, { read: true, write: true, create: true });
      this.#bell.writeSync(this.#rings);
    }
    const args = options.args({
      read: spin ? [socket, bell] : [socket],
      write: [socket],
      net: [`unix:${socket}`],
    });
    args.push(socket, spin ? bell : "", String(options.idleSpinUs));
    this.#child = new Deno.Command(options.deno, {
      args,
      cwd: options.dirs.workflowDir,
      clearEnv: true,
      env: options.env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      detached: true,
    }).spawn();
    // The first connection is the process's own, made before any node code runs; then the
    // socket is gone, so node code cannot connect a second time.
    const accepted = this.#listener.accept().then((conn) => {
      this.#conn = conn;
      this.#closeListener();
      if (this.#stopped) conn.close();
      return conn;
    });
    this.#ready = Promise.race([accepted, this.#child.status]).then(
      () => {
        this.#ready = undefined;
      },
      () => {
        this.#ready = undefined;
      },
    );
    this.#writer = new LineWriter(accepted, () => {
      // The connection broke: the process's exit (or the read loop) settles the calls.
    });
    const messages = accepted.then((conn) => this.#readMessages(conn)).catch(() => {});
    const stderr = this.#readStderr();
    this.#child.status.then(() => this.#closeListener());
    Promise.all([this.#child.status, messages, stderr]).then(
      ([status]) => this.#exited(status),
      (error) => this.#exited({ success: false, code: 1, signal: null }, error),
    );
  }

  #closeListener(): void {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    Deno.remove(`${this.#dir}/socket`).catch(() => {});
  }

  /** Settles once the process is connected (or gone); undefined once it has. */
  get ready(): Promise<void> | undefined {
    return this.#ready;
  }

  /**
   * Imports the module of `call`'s node ahead of its first call; undefined once it is loaded.
   * Settles (never rejects) when it is loaded, failed to load, or the process stopped.
   */
  preload(call: Pick<NodeCall, "node">): Promise<void> | undefined {
    const path = call.node.path ?? "";
    const url = moduleUrl(path, call.node.codeHash);
    const known = this.#loaded.get(url);
    if (known) return this.#loads.size > 0 ? known : undefined;
    const id = this.#calls.nextId();
    const loading = new Promise<void>((resolve) => this.#loads.set(id, resolve));
    this.#loaded.set(url, loading);
    this.#outbox.send({ t: "load", id, url, file: path, node: call.node.id });
    return loading;
  }

  /** Whether calls are running in this process. */
  get busy(): boolean {
    return this.#calls.size > 0;
  }

  /** Runs one attempt in this process. */
  run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
    const path = call.node.path ?? "";
    const loaded = this.#versions.get(path);
    if (loaded !== undefined && loaded !== call.node.codeHash) this.staleVersions++;
    this.#versions.set(path, call.node.codeHash);
    const result = this.#calls.start(call, signal);
    if (this.#options.solo) this.retire();
    return result;
  }

  /** Takes no new calls; stops once the running ones have settled. */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#options.onRetire(this);
    if (!this.busy) this.stop();
  }

  /**
   * Stops the process now. Calls still running fail with `failure(call)`, or when it is not
   * given, run again elsewhere (they did nothing wrong).
   */
  stop(failure?: (call: NodeCall) => NodeFailure): void {
    if (!this.#retired) this.retire();
    if (this.#stopped) return;
    this.#stopped = true;
    this.#outbox.clear();
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    this.#writer.close();
    this.#closeListener();
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    if (this.#bell !== undefined) {
      this.#bell.close();
      this.#bell = undefined;
    }
    Deno.remove(this.#dir, { recursive: true }).catch(() => {});
    this.#options.onExit(this);
    for (const loaded of this.#loads.values()) loaded();
    this.#loads.clear();
    for (const entry of this.#calls.takeAll()) {
      if (failure) entry.reject(failure(entry.call));
      else this.#rerun(entry, false);
    }
  }

  #rerun(entry: PendingCall, solo: boolean): void {
    if (entry.aborted) {
      entry.reject(abortFailure(entry.call, entry.aborted.reason));
      return;
    }
    this.#options.rerun(entry.call, entry.signal, { solo }).then(entry.resolve, entry.reject);
  }

  /** Rewrites the bell: a process polling it for its next call stops polling. */
  #ring(): void {
    if (this.#bell === undefined || this.#stopped) return;
    const n = ++this.#ringCount;
    this.#rings[0] = n & 0xff;
    this.#rings[1] = (n >>> 8) & 0xff;
    this.#rings[2] = (n >>> 16) & 0xff;
    this.#rings[3] = (n >>> 24) & 0xff;
    try {
      this.#bell.seekSync(0, Deno.SeekMode.Start);
      this.#bell.writeSync(this.#rings);
    } catch {
      // Only a missed wake-up: the message itself went through the pipe.
    }
  }

  #write(message: Posted<ToWorker>): void {
    if (!this.#stopped) this.#writer.send(message);
  }

  async #readMessages(conn: Deno.Conn): Promise<void> {
    await readLines(conn, (line) => {
      if (this.#stopped) return;
      let data: Posted<FromWorker>;
      try {
        data = JSON.parse(line);
      } catch {
        this.#crashed("its sandbox sent something that is not a message");
        return;
      }
      if (data.t !== "batch") this.#receive(data);
      else for (const message of data.messages) this.#receive(message);
    });
  }

  async #readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stderr) {
      this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
    }
  }

  /** What ended the process, for the failure of the calls it was running. */
  #exitReason(status: Deno.CommandStatus): string {
    if (OUT_OF_MEMORY.test(this.#stderr)) {
      return `it exceeded its memory limit of ${this.#options.memoryMiB} MiB; raise ` +
        "limits: { memory: … } on the node in workflow.yaml if it needs more";
    }
    const last = this.#stderr.trim().split("\n").filter((l) => l.trim() !== "").slice(-3)
      .join(" | ").slice(0, 500);
    const detail = last === "" ? "" : ` (${last})`;
    if (status.signal !== null) {
      return `its sandbox process was killed by signal ${status.signal}${detail}`;
    }
    return `its sandbox process exited with code ${status.code}${detail}`;
  }

  #exited(status: Deno.CommandStatus, error?: unknown): void {
    if (this.#stopped) return;
    const reason = error === undefined
      ? this.#exitReason(status)
      : `its sandbox process failed: ${error instanceof Error ? error.message : String(error)}`;
    this.#crashed(reason);
  }

  /**
   * The process ended or broke while running calls: a lone call fails with `reason`; when
   * several were running, each runs again alone, since any of them may have caused it.
   */
  #crashed(reason: string): void {
    if (this.#stopped) return;
    if (this.#calls.size <= 1) {
      this.stop((call) => this.#crashFailure(call, reason));
      return;
    }
    const pending = this.#calls.takeAll();
    this.stop();
    for (const entry of pending) this.#rerun(entry, true);
  }

  #crashFailure(call: NodeCall, reason: string): NodeFailure {
    return new NodeFailure(`Cannot run node "${call.node.id}": ${reason}`, {
      kind: FailureKind.Error,
    });
  }

  #receive(msg: FromWorker): void {
    if (msg.t === "crash") {
      // An uncaught error or unhandled rejection: the realm may be broken; it is replaced.
      const { message } = msg.error;
      return this.#crashed(`its sandbox crashed: ${message}`);
    }
    if (msg.t === "loaded") {
      this.#loads.get(msg.id)?.();
      this.#loads.delete(msg.id);
      return;
    }
    this.#calls.receive(msg);
  }
}
