import assert from "node:assert/strict";
import type { RunRecord } from "../engine/mod.ts";
import { openStore } from "../store/mod.ts";
import { assertExit, assertSnapshot, cli, cliCommand, stdoutJson, tempDir } from "./_cli.ts";

for (
  const command of [
    ["serve"],
    ["dev"],
    ["runs"],
    ["runs", "list"],
    ["runs", "show"],
    ["runs", "logs"],
    ["runs", "replay"],
    ["runs", "retry"],
    ["runs", "cancel"],
  ]
) {
  Deno.test(`\`pipedreamer ${command.join(" ")} --help\` prints the command's help`, async () => {
    const result = await cli([...command, "--help"]);
    assertExit(result, 0);
    await assertSnapshot(`help_${command.join("_")}`, result.stdout);
  });
}

function record(runId: string, status: RunRecord["status"], minute: number): RunRecord {
  const startedAt = `2025-01-01T10:0${minute}:00.000Z`;
  return {
    runId,
    workflow: "demo",
    version: "1.0.0",
    status,
    input: { n: minute },
    startedAt,
    trigger: "manual",
    nodes: { only: { status: status === "running" ? "running" : "succeeded", attempts: 1 } },
    ...(status === "running" ? {} : {
      finishedAt: `2025-01-01T10:0${minute}:01.500Z`,
      durationMs: 1500,
      result: { ok: minute },
    }),
  };
}

/** A SQLite store with three runs (two finished, one running) and some logs. */
async function seededStore() {
  const tmp = await tempDir();
  const data = `${tmp.path}/data`;
  const store = await openStore(undefined, { dataDir: data });
  await store.createRun(record("run-a", "succeeded", 1));
  await store.createRun(record("run-b", "failed", 2));
  await store.createRun(record("run-c", "running", 3));
  const line = (msg: string, node = "only") => ({
    ts: "2025-01-01T10:03:00.000Z",
    level: "info" as const,
    msg,
    runId: "run-c",
    node,
  });
  await store.appendLogs("run-c", [line("one"), line("two")]);
  return {
    data,
    store,
    line,
    async [Symbol.asyncDispose]() {
      await store.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

Deno.test("`pipedreamer runs list` pages the local store, newest first", async () => {
  await using seeded = await seededStore();
  const text = await cli(["runs", "list", "--data", seeded.data]);
  assertExit(text, 0);
  const rows = text.stdout.trim().split("\n");
  assert.match(rows[0]!, /^RUN +STATUS +TRIGGER +STARTED +DURATION +WORKFLOW$/);
  assert.deepEqual(rows.slice(1).map((r) => r.split(/ +/).slice(0, 2)), [
    ["run-c", "running"],
    ["run-b", "failed"],
    ["run-a", "succeeded"],
  ]);
  assert.match(rows[2]!, /2025-01-01 10:02:00Z +1\.50s +demo@1\.0\.0$/);

  const first = stdoutJson<{ runs: RunRecord[]; nextCursor: string }>(
    await cli(["runs", "list", "--data", seeded.data, "--limit", "2", "-o", "json"]),
  );
  assert.deepEqual(first.runs.map((r) => r.runId), ["run-c", "run-b"]);
  const second = stdoutJson<{ runs: RunRecord[]; nextCursor: null }>(
    await cli([
      "runs",
      "list",
      "--data",
      seeded.data,
      "--cursor",
      first.nextCursor,
      "-o",
      "json",
    ]),
  );
  assert.deepEqual(second.runs.map((r) => r.runId), ["run-a"]);
  assert.equal(second.nextCursor, null);

  const failed = await cli(["runs", "list", "--data", seeded.data, "--status", "failed,running"]);
  assert.deepEqual(
    failed.stdout.trim().split("\n").slice(1).map((r) => r.split(" ")[0]),
    ["run-c", "run-b"],
  );
});

Deno.test("`pipedreamer runs show` prints a record; -o json prints it whole", async () => {
  await using seeded = await seededStore();
  const text = await cli(["runs", "show", "run-a", "--data", seeded.data]);
  assertExit(text, 0);
  assert.match(text.stdout, /^status {4}succeeded$/m);
  assert.match(text.stdout, /^only +succeeded +1 +-$/m);
  assert.match(text.stdout, /^result\n{\n {2}"ok": 1\n}$/m);
  const json = stdoutJson<RunRecord>(
    await cli(["runs", "show", "run-b", "--data", seeded.data, "-o", "json"]),
  );
  assert.deepEqual(json, record("run-b", "failed", 2));
  const missing = await cli(["runs", "show", "nope", "--data", seeded.data]);
  assertExit(missing, 1);
  assert.equal(missing.stderr, 'Error: Cannot find run "nope"\n');
});

Deno.test("`pipedreamer runs logs -f` follows a local run until it ends", async () => {
  await using seeded = await seededStore();
  const plain = await cli(["runs", "logs", "run-c", "--data", seeded.data]);
  assertExit(plain, 0);
  assert.equal(
    plain.stdout,
    "2025-01-01 10:03:00.000Z [only] info  one\n2025-01-01 10:03:00.000Z [only] info  two\n",
  );

  const child = cliCommand(["runs", "logs", "run-c", "-f", "--data", seeded.data, "-o", "json"])
    .spawn();
  const lines: string[] = [];
  let buffer = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const readLine = async () => {
    while (!buffer.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      buffer += value;
    }
    const line = buffer.slice(0, buffer.indexOf("\n"));
    buffer = buffer.slice(line.length + 1);
    lines.push(line);
    return line;
  };
  assert.equal(JSON.parse((await readLine())!).msg, "one");
  assert.equal(JSON.parse((await readLine())!).msg, "two");
  await seeded.store.appendLogs("run-c", [seeded.line("three")]);
  assert.equal(JSON.parse((await readLine())!).seq, 3);
  await seeded.store.updateRun("run-c", {
    status: "succeeded",
    finishedAt: new Date().toISOString(),
  });
  assert.equal(await readLine(), undefined, "it stops once the run ended");
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  // Text lines carry their timestamps, followed or not.
  const followed = await cli(["runs", "logs", "run-c", "-f", "--data", seeded.data]);
  assertExit(followed, 0);
  assert.match(followed.stdout, /^2025-01-01 10:03:00\.000Z \[only\] info {2}three$/m);
  assert.match(followed.stderr, /run succeeded/);
});

Deno.test("`pipedreamer runs cancel` cancels a local run once; a finished one exits 1", async () => {
  await using seeded = await seededStore();
  const cancel = await cli(["runs", "cancel", "run-c", "--data", seeded.data]);
  assertExit(cancel, 0);
  assert.equal(cancel.stdout, "run run-c cancelled\n");
  assert.equal((await seeded.store.getRun("run-c"))?.status, "cancelled");
  const again = await cli(["runs", "cancel", "run-c", "--data", seeded.data]);
  assertExit(again, 1);
  assert.match(
    again.stderr,
    /Cannot cancel run "run-c": it already finished with status "cancelled"/,
  );
});

for (
  const [name, args, code, message] of [
    [
      "a missing store",
      ["runs", "list", "--data", "/nonexistent/data"],
      1,
      /^Error: Cannot open run store: no \/nonexistent\/data\/runs\.db; pass --data/m,
    ],
    [
      "a bad --status",
      ["runs", "list", "--status", "done"],
      2,
      /Cannot use --status "done": use one of queued, running/,
    ],
    ["a bad --limit", ["runs", "list", "--limit", "0"], 2, /Cannot use --limit "0"/],
    ["a bad --url", ["runs", "list", "--url", "ftp://x"], 2, /Cannot use --url "ftp:\/\/x"/],
    [
      "an unreachable server",
      ["runs", "list", "--url", "http://127.0.0.1:9"],
      1,
      /^Error: Cannot reach http:\/\/127\.0\.0\.1:9: /m,
    ],
  ] as const
) {
  Deno.test(`\`pipedreamer runs\` exits ${code} for ${name}`, async () => {
    const result = await cli([...args]);
    assertExit(result, code);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
}
