/**
 * `serve --nats-url-file`: the NATS URL (with its credentials) read from a file — the Kubernetes
 * Deployment mounts it from `deployment.nats`'s Secret — never from args or env, and never
 * echoed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, cli } from "./_cli.ts";
import { startServe } from "./_serve.ts";
import { NATS_TOKEN as TOKEN, queueTest, runFromQueue } from "./_queue_run.ts";

const WORKFLOW = `name: nats-file
version: "1.0.0"
triggers:
  - type: queue
    subject: jobs.file
    stream: FILEJOBS
nodes:
  echo:
    path: ./nodes/echo.ts
`;
const NODE =
  `export default (_ctx: unknown, input: { n: number }) => ({ doubled: input.n * 2 });\n`;

async function project(): Promise<{ dir: string; root: string } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "pd-nats-file-" });
  const dir = join(root, "nats-file");
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  await Deno.writeTextFile(join(dir, "workflow.yaml"), WORKFLOW);
  await Deno.writeTextFile(join(dir, "nodes/echo.ts"), NODE);
  return { dir, root, [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }) };
}

queueTest(
  "`serve --nats-url-file` consumes its queue trigger through the URL the file holds",
  async (nats) => {
    await using p = await project();
    const file = join(p.root, "nats-url");
    await Deno.writeTextFile(file, `nats://${TOKEN}@127.0.0.1:${nats.port}\n`);
    await using server = await startServe([
      ...["serve", p.dir, "--no-auth", "--host", "127.0.0.1", "--port", "0"],
      ...["--data", join(p.root, "data"), "--nats-url-file", file],
    ]);
    const get = async (path: string) => await (await fetch(`${server.url}${path}`)).json();
    const record = await runFromQueue({
      natsUrl: nats.url,
      stream: "FILEJOBS",
      durable: "nats-file",
      subject: "jobs.file",
      payload: { n: 21 },
    }, get);
    assert.deepEqual(record.result, { doubled: 42 });
  },
);

Deno.test("`serve --nats-url-file` rejects an empty or missing file and --nats-url beside it, never echoing the URL", async () => {
  await using p = await project();
  const file = join(p.root, "url");
  await Deno.writeTextFile(file, "\n");
  const base = ["serve", p.dir, "--no-auth", "--data", join(p.root, "data")];
  const empty = await cli([...base, "--nats-url-file", file]);
  assertExit(empty, 1);
  assert.match(empty.stderr, /Cannot use NATS URL file ".*url": it is empty/);
  await Deno.writeTextFile(file, `nats://user:${TOKEN}@127.0.0.1:1`);
  const both = await cli([...base, "--nats-url", "nats://127.0.0.1:1", "--nats-url-file", file]);
  assertExit(both, 2);
  assert.match(both.stderr, /Cannot combine --nats-url with --nats-url-file/);
  const missing = await cli([...base, "--nats-url-file", join(p.root, "nope")]);
  assertExit(missing, 1);
  assert.match(missing.stderr, /Cannot read NATS URL file/);
  assert.ok(![empty, both, missing].some((r) => `${r.stdout}${r.stderr}`.includes(TOKEN)));
});
