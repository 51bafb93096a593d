/**
 * `serve --nats-url-file`: the NATS URL (with its credentials) read from a file — the Kubernetes
 * Deployment mounts it from `deployment.nats`'s Secret — never from args or env, and never
 * echoed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "../triggers/mod.ts";
import { ignoreWithoutNats, startNatsServer, waitFor } from "../testing/mod.ts";
import { assertExit, cli } from "./_cli.ts";
import { startServe } from "./_serve.ts";

const TOKEN = "nats-hunter2-token";
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

Deno.test({
  name: "`serve --nats-url-file` consumes its queue trigger through the URL the file holds",
  ignore: ignoreWithoutNats(),
  async fn() {
    await using nats = await startNatsServer({ token: TOKEN });
    await using p = await project();
    const file = join(p.root, "nats-url");
    await Deno.writeTextFile(file, `nats://${TOKEN}@127.0.0.1:${nats.port}\n`);
    await using server = await startServe([
      ...["serve", p.dir, "--no-auth", "--host", "127.0.0.1", "--port", "0"],
      ...["--data", join(p.root, "data"), "--nats-url-file", file],
    ]);
    const nc = await connectNats(nats.url, { secret: TOKEN });
    try {
      const jsm = await jetstreamManager(nc);
      // serve creates the stream and its consumer: wait for them, then publish.
      await waitFor(
        () => jsm.consumers.info("FILEJOBS", "nats-file").then(() => true, () => false),
        "the consumer serve creates",
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      await jsm.jetstream().publish("jobs.file", JSON.stringify({ n: 21 }));
    } finally {
      await nc.close();
    }
    let runs: { runId: string; status: string; trigger: string }[] = [];
    await waitFor(
      async () => {
        runs = (await (await fetch(`${server.url}/runs`)).json()).runs;
        return runs.length === 1 && runs[0]!.status === "succeeded";
      },
      "the run of the message",
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    assert.equal(runs[0]!.trigger, "queue");
    const record = await (await fetch(`${server.url}/runs/${runs[0]!.runId}`)).json();
    assert.deepEqual(record.result, { doubled: 42 });
  },
});

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
