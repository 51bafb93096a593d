import assert from "node:assert/strict";
import { assertExit, cli, ROOT, tempDir } from "./_cli.ts";
import { startServe } from "./_serve.ts";

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
