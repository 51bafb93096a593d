/**
 * The OS sandbox of command nodes (SPEC §4), in real bubblewrap: files, network, environment,
 * user and signals, and the refusal where no sandbox can run.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { NodeFailure } from "../errors.ts";
import { createSubprocessRunner } from "./subprocess_runner.ts";
import { callOf, commandNode, sandboxDir, workflowOf } from "../testdata/sandbox/helpers.ts";

const never = () => new AbortController().signal;

interface EscapeReport {
  passwd: string;
  secrets: string;
  secretsDir: string;
  writeWorkflow: string;
  writeOutside: string;
  writeTmp: string;
  loopback: string;
  killEngine: string;
  uid: number;
  env: string[];
}

/** A workflow dir with the escape script, a .secrets.yaml and a .secrets/ dir; a listener. */
async function withProject(
  fn: (p: { dir: string; tmpDir: string; outside: string; port: number }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-bwrap-test-" });
  const outsideDir = await Deno.makeTempDir({ prefix: "pipedreamer-bwrap-outside-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) conn.close();
  })().catch(() => {});
  try {
    await Deno.mkdir(join(dir, "nodes"));
    await Deno.mkdir(join(dir, ".secrets"));
    await Deno.copyFile(join(sandboxDir, "nodes", "escape.py"), join(dir, "nodes", "escape.py"));
    await Deno.writeTextFile(join(dir, ".secrets.yaml"), "github: { token: s3cret }\n");
    await Deno.writeTextFile(join(dir, ".secrets", "stripe"), "sk_live_s3cret\n");
    const tmpDir = join(dir, "run-tmp");
    await fn({ dir, tmpDir, outside: join(outsideDir, "planted.txt"), port: listener.addr.port });
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outsideDir, { recursive: true });
  }
}

async function escape(options: { net?: string[]; sandbox?: "bwrap" | "none" }) {
  let report: EscapeReport | undefined;
  await withProject(async ({ dir, tmpDir, outside, port }) => {
    const node = commandNode("escape", ["python3", "./nodes/escape.py"], { run: ["python3"] });
    node.capabilities.net = options.net ?? [];
    const runner = createSubprocessRunner({ sandbox: options.sandbox ?? "bwrap" });
    try {
      const t = callOf(workflowOf([node], { dir }), "escape", {
        tmpDir,
        // Never signal this process from an unsandboxed run: it would succeed.
        input: { port, outside, enginePid: options.sandbox === "none" ? null : Deno.pid },
      });
      report = (await runner.run(t.call, never())).output as EscapeReport;
      if (report.writeOutside === "written") await Deno.remove(outside);
    } finally {
      await runner.close();
    }
  });
  return report!;
}

Deno.test("a command node reads no system or secret files, writes only its temp dir, reaches no undeclared port, runs as nobody", async () => {
  Deno.env.set("PIPEDREAMER_TEST_SECRET", "s3cret");
  const report = await escape({});
  Deno.env.delete("PIPEDREAMER_TEST_SECRET");
  // The environment is PATH, HOME and TMPDIR; the rest is set inside by the shell or python
  // itself (and by a version manager's shim when python3 is one, as with pyenv).
  const env = report.env.filter((name) => !/^_?PYENV|^SHLVL$/.test(name));
  assert.deepEqual({ ...report, env }, {
    passwd: "FileNotFoundError",
    secrets: "PermissionError",
    secretsDir: "FileNotFoundError",
    writeWorkflow: "OSError",
    writeOutside: "FileNotFoundError",
    writeTmp: "written",
    loopback: "ConnectionRefusedError",
    killEngine: "ProcessLookupError",
    uid: 65534,
    env: ["HOME", "LC_CTYPE", "PATH", "PWD", "TMPDIR"],
  });
});

Deno.test("a command node that declares net shares the engine's network (no per-host filter)", async () => {
  const report = await escape({ net: ["127.0.0.1"] });
  assert.equal(report.loopback, "connected");
  // Everything else stays contained.
  assert.equal(report.passwd, "FileNotFoundError");
  assert.equal(report.uid, 65534);
});

Deno.test("with the explicit opt-out a command node runs unsandboxed", async () => {
  const report = await escape({ sandbox: "none" });
  assert.match(report.passwd, /^read: /);
  assert.equal(report.loopback, "connected");
});

Deno.test("where no OS sandbox can run, command nodes are refused, saying why and naming the opt-out", async () => {
  const runner = createSubprocessRunner({ bwrap: "/nonexistent/bwrap" });
  try {
    const node = commandNode("cmd", ["true"], { run: ["true"] });
    const failure = await runner.run(callOf(workflowOf([node]), "cmd").call, never()).then(
      () => assert.fail("expected a refusal"),
      (error: unknown) => error as NodeFailure,
    );
    assert.ok(failure instanceof NodeFailure);
    assert.equal(
      failure.message,
      'Cannot run node "cmd": command nodes run only in an OS sandbox, and none is available ' +
        "here (bwrap (bubblewrap) is not installed); install bubblewrap where the engine runs, " +
        "or start the engine with --unsandboxed-commands to run command nodes without one",
    );
    assert.equal(failure.nonRetryable, true);
  } finally {
    await runner.close();
  }
});
