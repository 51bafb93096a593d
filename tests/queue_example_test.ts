/**
 * examples/webhook-to-queue end to end: the real `serve` with --nats-url, a signed GitHub push
 * posted to /hooks/github, the run it leads to, a dead letter, metrics and a clean SIGTERM.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { ignoreWithoutNats, startNatsServer, waitFor } from "../testing/mod.ts";
import { assertExit, cli, ROOT, stdoutJson } from "./_cli.ts";
import { startServe } from "./_serve.ts";

const EXAMPLE = `${ROOT}/examples/webhook-to-queue`;
const SECRET = "test-webhook-secret";

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

function hook(url: string, body: string, headers: Record<string, string> = {}) {
  const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  return fetch(`${url}/hooks/github`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-GitHub-Event": "push",
      "X-Hub-Signature-256": signature,
      ...headers,
    },
    body,
  });
}

/** How long and how often this test polls the server over HTTP. */
const POLL = { timeoutMs: 30_000, intervalMs: 50 };

Deno.test({
  name: "examples/webhook-to-queue: a signed GitHub push becomes one run through JetStream",
  ignore: ignoreWithoutNats(),
  async fn() {
    await using nats = await startNatsServer();
    const root = await Deno.makeTempDir({ prefix: "pipedreamer-webhook-" });
    try {
      const dir = `${root}/webhook-to-queue`;
      await copyDir(EXAMPLE, dir);
      await Deno.writeTextFile(`${dir}/.secrets.yaml`, `github-webhook: ${SECRET}\n`);
      await using server = await startServe([
        ...["serve", dir, "--no-auth", "--host", "127.0.0.1", "--port", "0"],
        ...["--data", `${root}/data`, "--nats-url", nats.url],
      ]);
      const push = await Deno.readTextFile(`${dir}/testdata/push.json`);

      const accepted = await hook(server.url, push, { "X-GitHub-Delivery": "delivery-1" });
      assert.equal(accepted.status, 202);
      assert.deepEqual(await accepted.json(), {
        hook: "github",
        subject: "events.github.push",
        stream: "EVENTS",
        seq: 1,
        duplicate: false,
      });
      const again = await hook(server.url, push, { "X-GitHub-Delivery": "delivery-1" });
      assert.equal((await again.json()).duplicate, true, "GitHub's redelivery is stored once");
      const forged = await fetch(`${server.url}/hooks/github`, {
        method: "POST",
        headers: { "X-Hub-Signature-256": `sha256=${"0".repeat(64)}` },
        body: push,
      });
      assert.equal(forged.status, 401);
      await forged.body?.cancel();

      let runs: { runId: string; status: string; trigger: string }[] = [];
      await waitFor(
        async () => {
          const response = await fetch(`${server.url}/runs`);
          runs = (await response.json()).runs;
          return runs.length === 1 && runs[0]!.status === "succeeded";
        },
        "the run of the push",
        POLL,
      );
      assert.equal(runs[0]!.trigger, "queue");
      const record = await (await fetch(`${server.url}/runs/${runs[0]!.runId}`)).json();
      const expected = JSON.parse(await Deno.readTextFile(`${dir}/tests/pipeline/push.json`));
      assert.deepEqual(record.result, expected.expected);

      // A ping is no push: inputSchema refuses it and it is dead-lettered at once.
      const ping = await hook(server.url, JSON.stringify({ zen: "Keep it logically awesome." }));
      assert.equal(ping.status, 202);
      await ping.body?.cancel();
      await waitFor(
        async () => {
          const text = await (await fetch(`${server.url}/metrics`)).text();
          return /pipedreamer_queue_messages_dead_lettered_total\{[^}]*\} 1/.test(text);
        },
        "the dead letter",
        POLL,
      );
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(
        metrics,
        /pipedreamer_queue_messages_acked_total\{workflow="webhook-to-queue",subject="events\.github\.push"\} 1/,
      );
      assert.match(metrics, /pipedreamer_webhook_requests_total\{hook="github",status="202"\} 3/);
      assert.match(metrics, /pipedreamer_webhook_requests_total\{hook="github",status="401"\} 1/);

      // Unauthenticated requests to random hook names add no series: one "(unknown)" label.
      const series = (text: string) =>
        text.split("\n").filter((l) => l.startsWith("pipedreamer_webhook_requests_total{"));
      for (let i = 0; i < 200; i++) {
        const name = i % 2 ? crypto.randomUUID() : `%E0%A4%A${i}`;
        const random = await fetch(`${server.url}/hooks/${name}`, { method: "POST", body: "{}" });
        assert.equal(random.status, 404);
        assert.equal((await random.json()).error.code, "not_found");
      }
      const after = series(await (await fetch(`${server.url}/metrics`)).text());
      assert.equal(after.length, series(metrics).length + 1, after.join("\n"));
      assert.ok(
        after.includes('pipedreamer_webhook_requests_total{hook="(unknown)",status="404"} 200'),
      );
      const listed = await cli([
        "dlq",
        "list",
        "events.github.push.dlq",
        "--nats-url",
        nats.url,
        "-o",
        "json",
      ]);
      assertExit(listed, 0);
      const [letter] = stdoutJson<
        { error: string; deliveryCount: number; headers: Record<string, string> }[]
      >(listed);
      assert.match(letter!.error, /inputSchema|must have required property/);
      assert.equal(letter!.deliveryCount, 1);
      assert.equal(letter!.headers["Pipedreamer-Webhook"], "github");

      const status = await server.stop("SIGTERM");
      assert.equal(status.code, 0, server.stderr());
      assert.doesNotMatch(server.stderr(), new RegExp(SECRET), "the secret never reaches the log");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
