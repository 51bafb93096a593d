/**
 * Three `pipedreamer serve` replicas share one durable JetStream consumer and one Postgres run
 * store; one is killed with SIGKILL while it runs messages. Every message must still end in
 * exactly one succeeded run, and nothing may be dead-lettered.
 *
 * Slow by design (about a minute): the dead replica's messages come back after the JetStream
 * ack wait (30 s) and its runs are resumed once their lease (10 s by default) lapses.
 */

import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { PostgresStore } from "../store/mod.ts";
import { connectNats, listDeadLetters } from "../triggers/mod.ts";
import {
  ignoreWithoutNats,
  ignoreWithoutPostgres,
  startNatsServer,
  startPostgresServer,
  waitFor,
} from "../testing/mod.ts";
import { type ServeProcess, startServe } from "./_serve.ts";

const JOBS = 9;

/** The loopback server the `work` node reports to; holds every call until `release()`. */
class JobServer {
  readonly calls: { run: string; replica: string; id: number }[] = [];
  #held: PromiseWithResolvers<void> | undefined = Promise.withResolvers<void>();
  readonly #server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    this.calls.push({
      run: url.searchParams.get("run") ?? "",
      replica: url.searchParams.get("replica") ?? "",
      id: Number(url.searchParams.get("id")),
    });
    await this.#held?.promise;
    await req.body?.cancel();
    return new Response("ok");
  });

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  release(): void {
    this.#held?.resolve();
    this.#held = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
    await this.#server.shutdown();
  }
}

/** How long and how often this test polls: three replicas and a SIGKILL take a while. */
const POLL = { timeoutMs: 150_000, intervalMs: 100 };

Deno.test({
  name: "three `serve` replicas run each queue message exactly once when one is SIGKILLed mid-run",
  ignore: ignoreWithoutNats() || ignoreWithoutPostgres(),
  async fn() {
    await using nats = await startNatsServer();
    await using pg = await startPostgresServer();
    const storeUrl = await pg.createDatabase();
    await using jobs = new JobServer();
    const root = await Deno.makeTempDir({ prefix: "pipedreamer-replicas-" });
    const replicas = new Map<string, ServeProcess>();
    const nc = await connectNats(nats.url);
    try {
      const dir = `${root}/queue-replicas`;
      await Deno.mkdir(`${dir}/nodes`, { recursive: true });
      for (const file of ["workflow.yaml", "nodes/work.ts"]) {
        await Deno.copyFile(
          new URL(`./testdata/queue-replicas/${file}`, import.meta.url),
          `${dir}/${file}`,
        );
      }
      const serve = async (name: string) => {
        const config = `${root}/config-${name}`;
        await Deno.mkdir(config);
        await Deno.writeTextFile(`${config}/callbackUrl`, jobs.url);
        await Deno.writeTextFile(`${config}/replica`, name);
        const replica = await startServe([
          ...["serve", dir, "--no-auth", "--host", "127.0.0.1", "--port", "0"],
          ...["--store", storeUrl, "--nats-url", nats.url, "--config-dir", config, "--grace", "1s"],
        ]);
        replicas.set(name, replica);
        return replica;
      };
      // The first creates the schema, the stream and the consumer; the others join them.
      await serve("r0");
      await Promise.all([serve("r1"), serve("r2")]);

      const js = (await jetstreamManager(nc)).jetstream();
      for (let id = 0; id < JOBS; id++) await js.publish("jobs.work", JSON.stringify({ id }));
      // maxConcurrency 2 per replica: six runs start and wait on the job server.
      await waitFor(() => jobs.calls.length === 6, "six runs in flight", POLL);
      assert.equal(new Set(jobs.calls.map((c) => c.replica)).size, 3, "every replica pulled");
      const victim = jobs.calls[0]!.replica;
      const victimRuns = jobs.calls.filter((c) => c.replica === victim).map((c) => c.run);
      assert.equal(victimRuns.length, 2);
      const killed = replicas.get(victim)!;
      killed.child.kill("SIGKILL");
      await killed.status;
      jobs.release();

      const store = await PostgresStore.open(storeUrl);
      try {
        await waitFor(
          async () => {
            const { runs } = await store.listRuns({ workflow: "queue-replicas", limit: 100 });
            return runs.length === JOBS && runs.every((r) => r.status === "succeeded");
          },
          "every job succeeded",
          POLL,
        );
        const { runs } = await store.listRuns({ workflow: "queue-replicas", limit: 100 });
        const ids = runs.map((r) => (r.input as { id: number }).id).sort((a, b) => a - b);
        assert.deepEqual(ids, [...Array(JOBS).keys()], "one run per message, none twice");
        assert.ok(runs.every((r) => r.trigger === "queue"));
        for (const runId of victimRuns) {
          const record = await store.getRun(runId);
          assert.equal(record?.status, "succeeded", `the killed replica's run ${runId} finished`);
          const finisher = (record?.result as { replica: string }).replica;
          assert.notEqual(finisher, victim, "resumed by a surviving replica");
        }
      } finally {
        await store.close();
      }
      const jsm = await jetstreamManager(nc);
      await waitFor(
        async () => {
          const info = await jsm.consumers.info("JOBS", "queue-replicas");
          return info.num_ack_pending === 0 && info.num_pending === 0;
        },
        "every message acked",
        POLL,
      );
      assert.deepEqual(await listDeadLetters(nc, "jobs.work.dlq"), [], "nothing dead-lettered");

      for (const replica of [...replicas.values()].filter((r) => r !== killed)) {
        const status = await replica.stop("SIGTERM");
        assert.equal(status.code, 0, replica.stderr());
      }
    } finally {
      await nc.close();
      for (const replica of replicas.values()) await replica.stop("SIGKILL");
      await Deno.remove(root, { recursive: true });
    }
  },
});
