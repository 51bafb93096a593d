import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, cli, stdoutJson } from "./_cli.ts";
import { startServe } from "./_serve.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const SECRET = "s3cr3t-token-value";

/**
 * The "svc" service greet fetches: it answers the title of a name, and echoes the bearer token
 * it got (so that a recorded response holds a secret, which must be redacted).
 */
function titleService() {
  const calls: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    calls.push(url.pathname + url.search);
    return Response.json({ title: "Dr.", seen: req.headers.get("authorization") });
  });
  return {
    calls,
    url: `http://127.0.0.1:${server.addr.port}`,
    stop: () => server.shutdown(),
  };
}

/** tests/testdata/recorded in a temp dir, with a secret and a config overlay (punctuation "!"). */
async function recordedProject(serviceUrl: string) {
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-from-run-" });
  const dir = join(root, "recorded");
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  const source = new URL("./testdata/recorded/", import.meta.url);
  for (const file of ["workflow.yaml", "nodes/greet.ts", "nodes/shout.ts"]) {
    await Deno.copyFile(new URL(file, source), join(dir, file));
  }
  const yaml = join(dir, "workflow.yaml");
  await Deno.writeTextFile(
    yaml,
    (await Deno.readTextFile(yaml)).replace('"http://127.0.0.1:9"', serviceUrl),
  );
  await Deno.writeTextFile(join(dir, ".secrets.yaml"), `svc:\n  token: ${SECRET}\n`);
  const configDir = join(root, "config");
  await Deno.mkdir(configDir);
  await Deno.writeTextFile(join(configDir, "punctuation"), "!");
  return {
    dir,
    data: join(root, "data"),
    configDir,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("`test --from-run` writes fixtures that pass; `runs replay` shows a code change", async () => {
  const service = titleService();
  await using project = await recordedProject(service.url);
  /** `runs replay <run> --node <node>` on the project's code and store. */
  const replay = (run: string, node: string, ...flags: string[]) =>
    cli(["runs", "replay", run, "--node", node, ...["--dir", project.dir], ...local(flags)]);
  /** `test --from-run <run>` from the project's store. */
  const fromRun = (run: string, ...flags: string[]) =>
    cli(["test", project.dir, "--from-run", run, ...local(flags)]);
  const local = (flags: string[]) => ["--data", project.data, ...flags];
  let runId: string;
  {
    await using server = await startServe([
      "serve",
      project.dir,
      ...["--port", "0", "--host", "127.0.0.1", "--no-auth"],
      ...["--data", project.data, "--config-dir", project.configDir],
    ]);
    const response = await fetch(`${server.url}/run`, {
      method: "POST",
      body: JSON.stringify({ name: "Ada" }),
    });
    const record: Json = await response.json();
    assert.equal(response.status, 200, JSON.stringify(record));
    assert.deepEqual(record.result, { text: "HELLO, DR. ADA!", chars: 3 });
    assert.deepEqual(record.config, { punctuation: "!" });
    runId = record.runId;

    // From the server (--url): one node, as JSON.
    const one = await cli([
      "test",
      project.dir,
      "--from-run",
      runId,
      "--node",
      "greet",
      "--url",
      server.url,
      "-o",
      "json",
    ]);
    assertExit(one, 0);
    const written = stdoutJson<Json>(one);
    assert.deepEqual(written.fixtures.map((f: Json) => f.node), ["greet"]);
    await server.stop();
  }
  const greetFile = join(
    project.dir,
    `tests/fixtures/greet.run-${runId.replaceAll("-", "").slice(0, 8)}.json`,
  );
  const greet = JSON.parse(await Deno.readTextFile(greetFile));
  assert.deepEqual(greet.input, { name: "Ada" });
  assert.deepEqual(greet.config, { punctuation: "!" });
  assert.deepEqual(greet.expected, { greeting: "Hello, Dr. Ada!", chars: 3 });
  assert.equal(greet.secrets, undefined);
  // recordFetch: the service's answer became a fetch mock, the token it echoed redacted.
  assert.deepEqual(greet.fetch, [{
    service: "svc",
    method: "GET",
    path: "/titles/Ada?lang=en",
    status: 200,
    body: { title: "Dr.", seen: "Bearer [REDACTED]" },
  }]);

  // From the local store: every node; the existing file is kept without --force.
  const again = await fromRun(runId);
  assertExit(again, 1);
  assert.match(again.stderr, /greet\.run-[0-9a-f]{8}\.json: it exists; pass --force/);
  const all = await fromRun(runId, "--force");
  assertExit(all, 0);
  assert.match(all.stdout, /^wrote tests\/fixtures\/greet\.run-[0-9a-f]{8}\.json$/m);
  assert.match(all.stdout, /^wrote tests\/fixtures\/shout\.run-[0-9a-f]{8}\.json$/m);
  for await (const entry of Deno.readDir(join(project.dir, "tests/fixtures"))) {
    const text = await Deno.readTextFile(join(project.dir, "tests/fixtures", entry.name));
    assert.ok(!text.includes(SECRET), `${entry.name} holds the secret`);
  }
  const shout = JSON.parse(
    await Deno.readTextFile(
      join(project.dir, `tests/fixtures/shout.run-${runId.replaceAll("-", "").slice(0, 8)}.json`),
    ),
  );
  assert.deepEqual(shout.input, { greeting: "Hello, Dr. Ada!", chars: 3 });
  assert.deepEqual(shout.expected, { text: "HELLO, DR. ADA!", chars: 3 });

  // The fixtures pass with `pipedreamer test` (the overlay "!" differs from workflow.yaml's "."),
  // offline: greet's ctx.fetch is answered by the recorded response.
  await service.stop();
  const calls = service.calls.length;
  const tested = await cli(["test", project.dir]);
  assert.equal(service.calls.length, calls);
  assertExit(tested, 0);
  assert.match(tested.stdout, /^2 passed, 0 failed$/m);

  // Replay against unchanged code: same result.
  const same = await replay(runId, "shout");
  assertExit(same, 0);
  assert.match(same.stdout, /same result as recorded/);

  // A code change shows as a diff (exit 1), and the fixture now fails.
  const shoutTs = join(project.dir, "nodes/shout.ts");
  await Deno.writeTextFile(
    shoutTs,
    (await Deno.readTextFile(shoutTs)).replace("toUpperCase()", "toLowerCase()"),
  );
  const changed = await replay(runId, "shout");
  assertExit(changed, 1);
  assert.match(changed.stdout, /result differs from the recorded one/);
  assert.match(changed.stdout, /^-\s+"text": "HELLO, DR. ADA!"/m);
  assert.match(changed.stdout, /^\+\s+"text": "hello, dr. ada!"/m);
  const json = stdoutJson<Json>(
    await replay(runId, "shout", "-o", "json"),
  );
  assert.equal(json.same, false);
  assert.deepEqual(json.replayed.output, { text: "hello, dr. ada!", chars: 3 });
  const failing = await cli(["test", project.dir]);
  assertExit(failing, 1);
  assert.match(failing.stdout, /^1 passed, 1 failed$/m);

  // Bad input: an unknown node, an unknown run, a node flag without --from-run.
  const unknownNode = await replay(runId, "nope");
  assertExit(unknownNode, 1);
  assert.match(unknownNode.stderr, /no such node; nodes: greet, shout/);
  const unknownRun = await fromRun("nope");
  assertExit(unknownRun, 1);
  assert.match(unknownRun.stderr, /Cannot find run "nope"/);
  const stray = await cli(["test", project.dir, "--node", "greet"]);
  assertExit(stray, 2);
});
