/**
 * `serve --store-file`: the run store URL read from a file (the Kubernetes Deployment mounts it
 * from `deployment.store`'s Secret), never from args or env.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, cli } from "./_cli.ts";
import { CallbackServer, gatedProject, gatedServeArgs, startServe } from "./_serve.ts";

Deno.test("`serve --store-file` opens the store the file names", async () => {
  await using callback = new CallbackServer();
  await using project = await gatedProject(callback);
  const db = join(project.data, "elsewhere.db");
  const file = join(project.dir, "..", "store-url");
  await Deno.writeTextFile(file, `sqlite:${db}\n`);
  await using server = await startServe([...gatedServeArgs(project), "--store-file", file]);
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  assert.ok((await Deno.stat(db)).isFile, "the store is not where the file said");
});

Deno.test("`serve --store-file` rejects an empty file and --store beside it, never echoing the URL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "url");
    await Deno.writeTextFile(file, "\n");
    const empty = await cli(["serve", ".", "--no-auth", "--store-file", file]);
    assertExit(empty, 1);
    assert.match(empty.stderr, /Cannot use store URL file ".*url": it is empty/);
    const secret = "postgres://user:hunter2@db/pd";
    await Deno.writeTextFile(file, secret);
    const both = await cli([
      "serve",
      ".",
      "--no-auth",
      "--store",
      "sqlite:x",
      "--store-file",
      file,
    ]);
    assertExit(both, 2);
    assert.match(both.stderr, /Cannot combine --store with --store-file/);
    const missing = await cli(["serve", ".", "--no-auth", "--store-file", join(dir, "nope")]);
    assertExit(missing, 1);
    assert.match(missing.stderr, /Cannot read store URL file/);
    assert.ok(![empty, both, missing].some((r) => `${r.stdout}${r.stderr}`.includes("hunter2")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
