/**
 * The runner of command nodes (`command: [python3, ./nodes/convert.py]`): stdin = input as
 * JSON, stdout = output JSON, stderr lines = log lines.
 *
 * The program (argv[0]) must be listed in `capabilities.run`; a relative path resolves from
 * the workflow directory, which is also the working directory. The environment is cleared
 * except `PATH`, with `HOME` and `TMPDIR` set to the run's temp dir; no secret is ever put in
 * it (pass them through stdin).
 *
 * The program runs in bubblewrap (engine/runners/_command_sandbox.ts): read-only system
 * libraries and workflow directory, its temp dir as the only writable place, no network unless
 * `capabilities.net` is declared, user nobody, its own namespaces. Where bubblewrap cannot run,
 * command nodes fail saying so, unless the runner was made with `sandbox: "none"` (the CLI's
 * `--unsandboxed-commands`): then the program has the engine's file and network access.
 *
 * On timeout or cancellation the process gets SIGTERM, then SIGKILL after the grace period.
 * Only the direct child is signalled; its pipes are closed once it exits, so a grandchild that
 * keeps them open cannot hold the attempt.
 *
 * @module
 */

import { FailureKind, NodeFailure } from "../errors.ts";
import { abortFailure, ignoredSignal, startTimer } from "./_attempt_failure.ts";
import { describeMissingRun, isRunAllowed } from "./_permissions.ts";
import {
  BWRAP_MISSING,
  bwrapArgs,
  bwrapCommand,
  type CommandSandbox,
  commandSandboxProblem,
  defaultCommandSandbox,
} from "./_command_sandbox.ts";
import type { LogLevel, LogLine } from "../run_record.ts";
import type { Clock, NodeCall, NodeCallResult, NodeRunner } from "../runner_protocol.ts";

/** Options of {@link createSubprocessRunner}. */
export interface SubprocessRunnerOptions {
  /** Time between SIGTERM and SIGKILL on timeout or cancellation. @default 2000 */
  killGraceMs?: number;
  /** Time source of the kill grace period. @default the system timers */
  clock?: Clock;
  /** The OS sandbox of the programs. @default defaultCommandSandbox() ("bwrap") */
  sandbox?: CommandSandbox;
  /** The bubblewrap executable. @default "bwrap" */
  bwrap?: string;
}

/** The absolute path of `program` on `path`, or undefined. */
function which(program: string, path: string): string | undefined {
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    const candidate = `${dir.replace(/\/+$/, "")}/${program}`;
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

const LEVELS = new Set<string>(["debug", "info", "warn", "error"]);
const STDERR_TAIL = 5;

/** A stderr line as a log line: a JSON object with `msg` keeps its level and fields. */
function stderrLine(text: string, call: NodeCall): LogLine {
  const base = { ts: new Date().toISOString(), runId: call.runId, node: call.node.id };
  const tagged = { ...base, attempt: call.attempt };
  if (text.startsWith("{")) {
    try {
      const parsed = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null && typeof parsed.msg === "string") {
        const { level, msg, ts: _ts, ...fields } = parsed as Record<string, unknown>;
        const line: LogLine = {
          ...tagged,
          level: typeof level === "string" && LEVELS.has(level) ? level as LogLevel : "info",
          msg: msg as string,
        };
        if (Object.keys(fields).length > 0) line.fields = fields;
        return line;
      }
    } catch {
      // Not JSON: a plain line.
    }
  }
  return { ...tagged, level: "info", msg: text };
}

async function readLines(
  reader: ReadableStreamDefaultReader<string>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, newline).replace(/\r$/, ""));
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer !== "") onLine(buffer);
}

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

function failure(call: NodeCall, detail: string, options: { nonRetryable?: boolean } = {}) {
  return new NodeFailure(`Cannot run node "${call.node.id}": ${detail}`, options);
}

/**
 * Creates the runner of command nodes.
 *
 * @throws {TypeError} From `run()`, for a node that is not a command node.
 * @example
 * ```ts
 * import { createSubprocessRunner } from "./subprocess_runner.ts";
 * const runner = createSubprocessRunner({ killGraceMs: 1000 });
 * await runner.close();
 * ```
 */
export function createSubprocessRunner(options: SubprocessRunnerOptions = {}): NodeRunner {
  const killGraceMs = options.killGraceMs ?? 2000;
  const sandbox = options.sandbox ?? defaultCommandSandbox();
  const bwrap = options.bwrap ?? "bwrap";
  const children = new Set<Deno.ChildProcess>();
  let path: string | undefined;
  let closed = false;

  async function run(call: NodeCall, signal: AbortSignal): Promise<NodeCallResult> {
    const { node, workflow } = call;
    const [program, ...args] = node.command ?? [];
    if (node.kind !== "command" || program === undefined) {
      throw new TypeError(`Cannot run node "${node.id}": it is not a command node`);
    }
    if (!isRunAllowed(program, { allowed: node.capabilities.run, dir: workflow.dir })) {
      const { message, capability } = describeMissingRun(node.id, program);
      throw new NodeFailure(message, { kind: FailureKind.Capability, capability });
    }
    if (signal.aborted) throw abortFailure(call, signal.reason);
    if (closed) {
      throw new NodeFailure(`Cannot run node "${node.id}": the node runner is closed`, {
        kind: FailureKind.Cancelled,
      });
    }
    let stdin: Uint8Array;
    try {
      stdin = new TextEncoder().encode(JSON.stringify(call.input ?? null));
    } catch (error) {
      throw failure(call, `its input cannot be written as JSON (${(error as Error).message})`, {
        nonRetryable: true,
      });
    }
    const executable = program.includes("/") && !program.startsWith("/")
      ? `${workflow.dir.replace(/\/+$/, "")}/${program}`
      : program;
    path ??= Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
    let contained = sandbox !== "none";
    if (contained) {
      const problem = await commandSandboxProblem(bwrap);
      if (problem !== undefined && sandbox === "fallback") {
        contained = false;
        call.onLog({
          ts: new Date().toISOString(),
          level: "warn",
          msg: `Running without an OS sandbox (${problem}): the engine was started with ` +
            "--unsandboxed-commands",
          runId: call.runId,
          node: node.id,
          attempt: call.attempt,
        });
      } else if (problem !== undefined) {
        throw failure(
          call,
          `command nodes run only in an OS sandbox, and none is available here (${problem}); ` +
            (problem === BWRAP_MISSING
              ? "install bubblewrap where the engine runs"
              : "run the engine where bubblewrap may create user, mount and PID namespaces " +
                "(README: Security)") +
            ", or start the engine with --unsandboxed-commands to run command nodes without one",
          { nonRetryable: true },
        );
      }
    }
    const resolved = executable.includes("/") ? executable : which(executable, path);
    const missing = resolved === undefined ||
      (executable.includes("/") && !(await Deno.stat(executable).then(() => true, () => false)));
    if (contained && missing) {
      throw failure(call, `program "${program}" was not found (PATH or the workflow directory)`, {
        nonRetryable: true,
      });
    }
    // bwrap binds the temp dir: it must exist (the executor makes it; a bare call may not).
    if (contained) await Deno.mkdir(call.tmpDir, { recursive: true });
    let child: Deno.ChildProcess;
    try {
      child = contained
        ? new Deno.Command(bwrapCommand(bwrap).program, {
          args: [
            ...bwrapCommand(bwrap).prefix,
            ...bwrapArgs({
              program: resolved!,
              args,
              workflowDir: workflow.dir,
              tmpDir: call.tmpDir,
              net: node.capabilities.net.length > 0,
              path,
            }),
          ],
          cwd: workflow.dir,
          clearEnv: true,
          env: {},
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn()
        : new Deno.Command(executable, {
          args,
          cwd: workflow.dir,
          clearEnv: true,
          env: { PATH: path, HOME: call.tmpDir, TMPDIR: call.tmpDir },
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
    } catch (error) {
      const detail = error instanceof Deno.errors.NotFound
        ? `program "${program}" was not found (PATH or the workflow directory)`
        : `cannot start "${program}": ${(error as Error).message}`;
      throw failure(call, detail, { nonRetryable: true });
    }
    children.add(child);

    let stopped: string | undefined;
    let cancelKill = () => {};
    const onAbort = () => {
      kill(child, "SIGTERM");
      cancelKill = startTimer(killGraceMs, () => {
        stopped = ignoredSignal(killGraceMs, "its process was killed");
        kill(child, "SIGKILL");
      }, { clock: options.clock });
    };
    signal.addEventListener("abort", onAbort, { once: true });

    const writer = child.stdin.getWriter();
    writer.write(stdin).then(() => writer.close()).catch(() => {});
    const tail: string[] = [];
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const stderrDone = readLines(stderr, (text) => {
      if (text.trim() === "") return;
      tail.push(text);
      if (tail.length > STDERR_TAIL) tail.shift();
      call.onLog(stderrLine(text, call));
    }).catch(() => {});
    const stdoutReader = child.stdout.getReader();
    const stdoutText = readText(stdoutReader).catch(() => "");

    const status = await child.status;
    signal.removeEventListener("abort", onAbort);
    cancelKill();
    children.delete(child);
    if (signal.aborted || closed) {
      // Grandchildren may hold the pipes open: stop reading.
      await Promise.all([stdoutReader.cancel().catch(() => {}), stderr.cancel().catch(() => {})]);
      await Promise.all([stdoutText, stderrDone]);
      if (signal.aborted) throw abortFailure(call, signal.reason, { stopped });
      throw new NodeFailure(`Cannot run node "${node.id}": the node runner was closed`, {
        kind: FailureKind.Cancelled,
      });
    }
    const [stdout] = await Promise.all([stdoutText, stderrDone]);
    if (!status.success) {
      const how = status.signal
        ? `was killed by ${status.signal}`
        : `exited with code ${status.code}`;
      const stderr = tail.length > 0 ? `; stderr: ${tail.join(" | ")}` : "";
      throw failure(call, `"${program}" ${how}${stderr}`);
    }
    if (stdout.trim() === "") return { output: null };
    try {
      return { output: JSON.parse(stdout) };
    } catch {
      const head = stdout.length > 80 ? `${stdout.slice(0, 80)}…` : stdout;
      throw failure(
        call,
        `"${program}" wrote output that is not JSON: ${JSON.stringify(head)}; print one JSON ` +
          "value on stdout and logs on stderr",
        { nonRetryable: true },
      );
    }
  }

  return {
    run,
    async close(): Promise<void> {
      closed = true;
      const running = [...children];
      for (const child of running) kill(child, "SIGKILL");
      await Promise.all(running.map((child) => child.status));
    },
  };
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}
