import assert from "node:assert/strict";
import { assertExit, cli, ROOT, tempDir } from "./_cli.ts";
import { CallbackServer, sseReader, startServe } from "./_serve.ts";

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.name.startsWith(".")) continue; // e.g. a .pipedreamer store of an earlier `dev`
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test("`pipedreamer dev` serves on 127.0.0.1 without auth and reloads on edits", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/hello`;
  await copyDir(`${ROOT}/examples/hello-world`, dir);
  await using dev = await startServe(["dev", dir, "--port", "0"], {
    env: { PIPEDREAMER_TOKEN: "" },
  });
  assert.match(dev.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const run = async () => {
    const response = await fetch(`${dev.url}/run`, { method: "POST", body: '{"name":"Ada"}' });
    assert.equal(response.status, 200);
    return (await response.json()).result.message;
  };
  assert.equal(await run(), "HELLO, ADA!");

  const greet = `${dir}/nodes/greet.ts`;
  await Deno.writeTextFile(greet, (await Deno.readTextFile(greet)).replace("Hello", "Howdy"));
  await dev.waitForStderr(/^reloaded hello-world 1\.0\.0 \(code [0-9a-f]{12}\)$/m);
  assert.equal(await run(), "HOWDY, ADA!", "new runs use the new code");

  const yaml = `${dir}/workflow.yaml`;
  await Deno.writeTextFile(
    yaml,
    (await Deno.readTextFile(yaml)).replace("greet:\n", "greet:\n    colour: red\n"),
  );
  const [failure] = await dev.waitForStderr(
    /^.*workflow\.yaml:\d+:\d+: [^\n]+\n(?: {2}hint: [^\n]+\n)?1 error in workflow\nreload failed: still serving the last good version$/m,
  );
  assert.match(failure, /colour/);
  assert.equal(await run(), "HOWDY, ADA!", "the last good version keeps serving");

  const status = await dev.stop("SIGINT");
  assert.equal(status.code, 0, dev.stderr());
  const list = await cli(["runs", "list", "--data", `${dir}/.pipedreamer`, "-o", "json"]);
  assertExit(list, 0);
  assert.equal(JSON.parse(list.stdout).runs.length, 3, "dev keeps runs in <dir>/.pipedreamer");
});

Deno.test("`pipedreamer dev` reports a broken workflow at start and exits 1", async () => {
  const result = await cli(["dev", "tests/testdata/broken", "--port", "0"]);
  assertExit(result, 1);
  assert.match(result.stderr, /^tests\/testdata\/broken\/workflow\.yaml:\d+:\d+: /m);
  assert.doesNotMatch(result.stderr, /listening on/);
});

Deno.test("`pipedreamer dev` finishes a run in flight on the code it started with after a reload", async () => {
  await using callback = new CallbackServer();
  await using tmp = await tempDir();
  const dir = `${tmp.path}/reload-gate`;
  await Deno.mkdir(`${dir}/nodes`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/workflow.yaml`,
    [
      "name: reload-gate",
      'version: "1.0.0"',
      "nodes:",
      '  gate: { path: ./nodes/gate.ts, capabilities: { net: "127.0.0.1" } }',
      "  b: { path: ./nodes/b.ts }",
      "edges:",
      "  - { from: gate, to: b }",
      "config:",
      "  timeout: 5m",
      "  retries: 0",
      `  callbackUrl: "${callback.url}"`,
      "",
    ].join("\n"),
  );
  // `gate` reports to the callback server and waits there until the test releases it.
  await Deno.copyFile(`${ROOT}/tests/testdata/gated/nodes/call.ts`, `${dir}/nodes/gate.ts`);
  const b = `${dir}/nodes/b.ts`;
  await Deno.writeTextFile(b, 'export default () => ({ code: "old" });\n');
  await using dev = await startServe(["dev", dir, "--port", "0"], {
    env: { PIPEDREAMER_TOKEN: "" },
  });

  callback.hold("gate");
  const started = await fetch(`${dev.url}/runs`, { method: "POST", body: "{}" });
  assert.equal(started.status, 202);
  const { runId } = await started.json();
  await callback.waitForCall("gate", 1, runId);
  // `b` was never loaded by the run in flight when its file changes.
  await Deno.writeTextFile(b, 'export default () => ({ code: "new" });\n');
  await dev.waitForStderr(/^reloaded reload-gate 1\.0\.0 \(code [0-9a-f]{12}\)$/m);
  callback.release("gate");

  const frames = sseReader(
    await fetch(`${dev.url}/runs/${runId}/logs`, { headers: { accept: "text/event-stream" } }),
  );
  let inFlight: { status: string; result: unknown; codeHash: string } | undefined;
  for (let f = await frames.next(); f; f = await frames.next()) {
    if (f.event === "end") inFlight = f.data as typeof inFlight;
  }
  assert.equal(inFlight?.status, "succeeded", JSON.stringify(inFlight));
  assert.deepEqual(inFlight.result, { code: "old" }, "the run in flight kept its code");

  const next = await fetch(`${dev.url}/run`, { method: "POST", body: "{}" });
  assert.equal(next.status, 200);
  const record = await next.json();
  assert.deepEqual(record.result, { code: "new" }, "a new run uses the new code");
  assert.notEqual(record.codeHash, inFlight.codeHash);
  assert.equal((await dev.stop("SIGINT")).code, 0, dev.stderr());
});
