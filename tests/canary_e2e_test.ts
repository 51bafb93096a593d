/**
 * A canary release at the engine level: two real `pipedreamer serve` processes on loopback, the
 * live one with `--canary-file` naming the canary. The split must be exact (10 % is exactly 10
 * of 100 new runs) for HTTP runs and for a queue trigger (real nats-server: only the live engine
 * consumes, the canary runs `--queue external`), forwarded runs must be readable, streamable and
 * cancellable through the live engine, cron runs must stay live, and changing or removing the
 * file must take effect without a restart.
 */

import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "../triggers/mod.ts";
import { ignoreWithoutNats, startNatsServer, waitFor } from "../testing/mod.ts";
import { type ServeProcess, startServe } from "./_serve.ts";

const TOKEN = "canary-test-token";
const auth = { authorization: `Bearer ${TOKEN}` };

interface RunRecord {
  runId: string;
  status: string;
  trigger: string;
  result?: { id: number | null; engine: string };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { ...auth, "content-type": "application/json", ...headers },
  });
  return { status: res.status, body: await res.json(), location: res.headers.get("location") };
}

async function get(url: string) {
  const res = await fetch(url, { headers: auth });
  return { status: res.status, body: await res.json() };
}

/** Every run an engine holds (its own store), newest first. */
async function runsOf(engine: ServeProcess): Promise<RunRecord[]> {
  const { body } = await get(`${engine.url}/runs?limit=1000`);
  return body.runs;
}

Deno.test({
  name: "canary split: exact shares for HTTP and queue runs, forwarded runs reachable, cron live",
  ignore: ignoreWithoutNats(),
  async fn() {
    await using nats = await startNatsServer();
    const root = await Deno.makeTempDir({ prefix: "pipedreamer-canary-" });
    const engines: ServeProcess[] = [];
    const nc = await connectNats(nats.url);
    try {
      const dir = `${root}/canary`;
      await Deno.mkdir(`${dir}/nodes`, { recursive: true });
      for (const file of ["workflow.yaml", "nodes/work.ts"]) {
        await Deno.copyFile(
          new URL(`./testdata/canary/${file}`, import.meta.url),
          `${dir}/${file}`,
        );
      }
      await Deno.writeTextFile(`${dir}/.secrets.yaml`, "canary-hook: hook-token\n");
      await Deno.writeTextFile(`${root}/token`, TOKEN);
      const serve = async (name: string, extra: string[]) => {
        await Deno.mkdir(`${root}/config-${name}`);
        await Deno.writeTextFile(`${root}/config-${name}/engine`, name);
        const engine = await startServe([
          ...["serve", dir, "--token-file", `${root}/token`, "--host", "127.0.0.1"],
          ...["--port", "0", "--data", `${root}/data-${name}`, "--config-dir"],
          ...[`${root}/config-${name}`, "--grace", "1s", "--cron", "external"],
          ...["--nats-url", nats.url, ...extra],
        ]);
        engines.push(engine);
        return engine;
      };
      // The canary gets --nats-url too: --queue external must keep it off the queue.
      const canary = await serve("canary", ["--queue", "external"]);
      const canaryFile = `${root}/canary.json`;
      const setCanary = (value: unknown) =>
        Deno.writeTextFile(`${canaryFile}.tmp`, JSON.stringify(value)).then(() =>
          Deno.rename(`${canaryFile}.tmp`, canaryFile)
        );
      await setCanary({ url: canary.url, percent: 10, version: "1.1.0" });
      const live = await serve("live", ["--canary-file", canaryFile]);

      // HTTP: 100 new runs, sync and async alike, exactly 10 of them on the canary.
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) {
        if (i % 2 === 0) {
          const res = await post(`${live.url}/run`, { id: i });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.location, `/runs/${res.body.runId}`, "the caller's response shape");
          ids.push(res.body.runId);
        } else {
          const res = await post(`${live.url}/runs`, { id: i });
          assert.equal(res.status, 202, JSON.stringify(res.body));
          assert.deepEqual(Object.keys(res.body), ["runId"]);
          ids.push(res.body.runId);
        }
      }
      const onCanary = new Set((await runsOf(canary)).map((r) => r.runId));
      assert.equal(onCanary.size, 10, "exactly 10 of 100 HTTP runs on the canary");
      assert.equal((await runsOf(live)).length, 90);
      // Run n (from 0) goes to the canary iff floor((n+1)p/100) > floor(np/100): 9, 19, … 99.
      assert.deepEqual(
        ids.flatMap((id, n) => onCanary.has(id) ? [n] : []),
        [9, 19, 29, 39, 49, 59, 69, 79, 89, 99],
      );

      // Every run, wherever it ran, is readable through the live engine.
      for (const [n, id] of ids.entries()) {
        let record: RunRecord | undefined;
        await waitFor(async () => {
          const res = await get(`${live.url}/runs/${id}`);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          record = res.body;
          return record!.status === "succeeded";
        }, `run ${id} to succeed`);
        assert.equal(record!.result!.engine, onCanary.has(id) ? "canary" : "live");
        assert.equal(record!.result!.id, n);
      }
      const forwarded = ids[9]!;
      const logs = await fetch(`${live.url}/runs/${forwarded}/logs`, { headers: auth });
      assert.equal(logs.status, 200);
      assert.match(logs.headers.get("content-type") ?? "", /ndjson/);
      await logs.body?.cancel();
      // Server-sent events of a canary run, through the live engine.
      const sse = await fetch(`${live.url}/runs/${forwarded}/logs`, {
        headers: { ...auth, accept: "text/event-stream" },
      });
      assert.equal(sse.status, 200);
      assert.match(sse.headers.get("content-type") ?? "", /text\/event-stream/);
      const text = await sse.text();
      assert.match(text, /event: end/);
      // Cancel of a finished canary run: the canary's own 409, in the usual error shape.
      const cancel = await post(`${live.url}/runs/${forwarded}/cancel`, null);
      assert.equal(cancel.status, 409);
      assert.equal(cancel.body.error.code, "conflict");
      const missing = await get(`${live.url}/runs/no-such-run`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, "not_found");
      // Forwarding happens after authentication: no token, no forwarding.
      const anonymous = await fetch(`${live.url}/runs/${forwarded}`);
      assert.equal(anonymous.status, 401);
      await anonymous.body?.cancel();

      // A repeated idempotency key goes where its first run went.
      const keyed: string[] = [];
      for (let i = 0; i < 10; i++) {
        keyed.push(
          (await post(`${live.url}/runs`, { id: 1000 + i }, { "idempotency-key": `k${i}` })).body
            .runId,
        );
      }
      const again = await post(`${live.url}/runs`, { id: 1009 }, { "idempotency-key": "k9" });
      assert.equal(again.status, 200, "the repeated key finds its run (on the canary)");
      assert.equal(again.body.runId, keyed[9]);
      assert.ok((await runsOf(canary)).some((r) => r.runId === keyed[9]));

      // Cron (the CronJobs send X-Pipedreamer-Trigger: cron) is never split.
      for (let i = 0; i < 20; i++) {
        const res = await post(`${live.url}/run`, { id: 2000 + i }, {
          "x-pipedreamer-trigger": "cron",
        });
        assert.equal(res.status, 200);
        assert.equal(res.body.result.engine, "live");
        assert.equal(res.body.trigger, "cron");
      }
      const badTrigger = await post(`${live.url}/runs`, {}, { "x-pipedreamer-trigger": "bogus" });
      assert.equal(badTrigger.status, 400);
      assert.match(badTrigger.body.error.message, /X-Pipedreamer-Trigger.*manual, cron, queue/);

      // Queue trigger: 100 messages, only the live engine consumes, exactly 10 run on the canary.
      const canaryBefore = (await runsOf(canary)).length;
      const liveBefore = (await runsOf(live)).length;
      const js = (await jetstreamManager(nc)).jetstream();
      for (let id = 0; id < 100; id++) await js.publish("canary.jobs", JSON.stringify({ id }));
      const jsm = await jetstreamManager(nc);
      await waitFor(
        async () => {
          const info = await jsm.consumers.info("CANARY", "canary");
          return info.num_ack_pending === 0 && info.num_pending === 0 &&
            info.delivered.consumer_seq === 100;
        },
        "every message acked",
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const canaryQueue = (await runsOf(canary)).slice(
        0,
        (await runsOf(canary)).length - canaryBefore,
      );
      const liveQueue = (await runsOf(live)).slice(0, (await runsOf(live)).length - liveBefore);
      assert.equal(canaryQueue.length, 10, "exactly 10 of 100 queue runs on the canary");
      assert.equal(liveQueue.length, 90);
      for (const run of [...canaryQueue, ...liveQueue]) {
        assert.equal(run.trigger, "queue");
        assert.equal(run.status, "succeeded");
      }
      assert.deepEqual(
        [...canaryQueue, ...liveQueue].map((r) => r.result!.id).sort((a, b) => a! - b!),
        [...Array(100).keys()],
        "one run per message",
      );

      // Webhooks publish to the same stream: 20 of them, exactly 2 on the canary.
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${live.url}/hooks/push`, {
          method: "POST",
          body: JSON.stringify({ id: 100 + i }),
          headers: { authorization: "Bearer hook-token", "content-type": "application/json" },
        });
        assert.ok(res.ok, `${res.status} ${await res.text()}`);
      }
      await waitFor(
        async () => {
          const info = await jsm.consumers.info("CANARY", "canary");
          return info.num_ack_pending === 0 && info.num_pending === 0 &&
            info.delivered.consumer_seq === 120;
        },
        "every webhook message acked",
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const hookRuns = (await runsOf(canary)).filter((r) =>
        r.trigger === "queue" && r.result!.id! >= 100 && r.result!.id! < 120
      );
      assert.equal(hookRuns.length, 2, "exactly 2 of 20 webhook runs on the canary");
      // The canary (--queue external) serves no webhooks of its own.
      const ownHook = await fetch(`${canary.url}/hooks/push`, {
        method: "POST",
        body: "{}",
        headers: { authorization: "Bearer hook-token" },
      });
      assert.equal(ownHook.status, 401, "not a webhook route there: the API's token check");
      await ownHook.body?.cancel();

      // Failure rates: 2 failing runs on the canary's share of the next 20.
      for (let i = 0; i < 20; i++) await post(`${live.url}/run`, { id: 3000 + i, fail: true });
      const status = await get(`${live.url}/canary`);
      assert.equal(status.status, 200);
      assert.deepEqual(status.body.canary.routed, {
        live: 90 + 9 + 90 + 18 + 18,
        canary: 10 + 1 + 10 + 2 + 2,
      });
      assert.equal(status.body.canary.percent, 10);
      assert.equal(status.body.canary.version, "1.1.0");
      assert.equal(status.body.runs.canary.total, 25);
      assert.equal(status.body.runs.canary.failed, 2);
      assert.equal(status.body.runs.live.failed, 18);

      // A new share takes effect without a restart and starts a new sequence: 50 % of 10 is 5.
      await setCanary({ url: canary.url, percent: 50, version: "1.1.0" });
      const before = (await runsOf(canary)).length;
      for (let i = 0; i < 10; i++) await post(`${live.url}/run`, { id: 4000 + i });
      assert.equal((await runsOf(canary)).length - before, 5);

      // A canary that cannot be connected to (not ready, gone): nothing was sent, the run
      // stays live; a run id it would hold answers 502.
      const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const deadUrl = `http://127.0.0.1:${closed.addr.port}`;
      closed.close();
      await setCanary({ url: deadUrl, percent: 50, version: "1.1.0" });
      for (let i = 0; i < 4; i++) {
        const res = await post(`${live.url}/run`, { id: 4500 + i });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.result.engine, "live");
      }
      await live.waitForStderr(
        /Cannot reach the canary \(version 1\.1\.0 at http:\/\/127\.0\.0\.1:\d+\)/,
      );
      assert.deepEqual((await get(`${live.url}/canary`)).body.canary.routed, {
        live: 4,
        canary: 0,
      });
      const gone = await get(`${live.url}/runs/not-here`);
      assert.equal(gone.status, 502);
      assert.equal(gone.body.error.code, "bad_gateway");

      // A file that is not a canary is reported and means no canary.
      await setCanary({ url: canary.url, percent: 100, version: "1.1.0" });
      await post(`${live.url}/run`, { id: 5000 });
      await live.waitForStderr(/"percent" must be an integer from 1 to 99, got 100/);
      // Ended: every new run stays live.
      await setCanary({});
      for (let i = 0; i < 10; i++) {
        assert.equal((await post(`${live.url}/run`, { id: 6000 + i })).body.result.engine, "live");
      }
      assert.equal((await runsOf(canary)).length - before, 5);
      assert.equal((await get(`${live.url}/canary`)).body.canary, null);

      for (const engine of engines) {
        assert.equal((await engine.stop("SIGTERM")).code, 0, engine.stderr());
      }
    } finally {
      await nc.close();
      for (const engine of engines) await engine.stop("SIGKILL");
      await Deno.remove(root, { recursive: true });
    }
  },
});
