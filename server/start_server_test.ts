import assert from "node:assert/strict";
import { join } from "node:path";
import { createInProcessRunner } from "../engine/mod.ts";
import { FakeClock } from "../testing/mod.ts";
import { CronMode, startServer, type StartServerOptions } from "./start_server.ts";

/** A workflow whose cron trigger ticks at 09:00 UTC, in a temp dir with room for a store. */
async function cronProject(): Promise<{ dir: string; data: string } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "pd-start-server-" });
  const dir = join(root, "cron-flow");
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    [
      "name: cron-flow",
      'version: "1.0.0"',
      "triggers:",
      "  - type: manual",
      '  - { type: cron, schedule: "0 9 * * *", input: { from: cron } }',
      "nodes:",
      "  tick: { path: ./nodes/tick.ts }",
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(join(dir, "nodes/tick.ts"), "export default (_ctx, input) => input;\n");
  return {
    dir,
    data: join(root, "data"),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** Starts a server on a fake clock one minute before the tick, moves past it, lists the runs. */
async function runsAfterTick(cron: CronMode | undefined): Promise<string[]> {
  await using project = await cronProject();
  const clock = new FakeClock(Date.parse("2025-01-01T08:59:00Z"));
  const runner = createInProcessRunner();
  const options: StartServerOptions = {
    dir: project.dir,
    port: 0,
    host: "127.0.0.1",
    noAuth: true,
    dataDir: project.data,
    configDir: join(project.data, "no-config"),
    secretsDir: join(project.data, "no-secrets"),
    runner,
    clock,
    graceMs: 0,
    // advance() settles what the fake clock wakes within event-loop turns; a durable store
    // would also wait for real fsyncs (I/O threads), which advance() does not wait for.
    durability: "relaxed",
    ...(cron ? { cron } : {}),
  };
  const server = await startServer(options);
  try {
    // Each due sleep is resolved, and what it wakes (a cron tick submitting its run) has run,
    // before advance() returns.
    await clock.advance(2 * 60_000);
    const { runs } = await server.manager.listRuns({});
    return runs.map((run) => run.trigger ?? "");
  } finally {
    await server.shutdown();
    await runner.close();
  }
}

for (
  const [cron, fired, what] of [
    [undefined, ["cron"], "fires cron triggers in-process by default"],
    [CronMode.Internal, ["cron"], "with cron internal fires cron triggers in-process"],
    [CronMode.External, [], "with cron external never fires a cron trigger"],
  ] as const
) {
  Deno.test(`\`startServer()\` ${what}`, async () => {
    assert.deepEqual(await runsAfterTick(cron), fired);
  });
}

Deno.test("`startServer()` rejects an unknown cron mode before it starts anything", async () => {
  await using project = await cronProject();
  await assert.rejects(
    startServer({
      dir: project.dir,
      noAuth: true,
      dataDir: project.data,
      cron: "sometimes" as CronMode,
    }),
    (error: Error) =>
      error instanceof TypeError &&
      error.message ===
        'Cannot start server: cron must be "internal" or "external", got "sometimes"',
  );
  await assert.rejects(Deno.stat(project.data), Deno.errors.NotFound);
});

Deno.test("`startServer()` rejects an unsupported OTLP protocol before it opens the store", async () => {
  await using project = await cronProject();
  const vars = {
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
    OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
  };
  const before = Object.keys(vars).map((name) => [name, Deno.env.get(name)] as const);
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    await assert.rejects(
      startServer({ dir: project.dir, noAuth: true, dataDir: project.data }),
      (error: Error) =>
        error instanceof RangeError &&
        error.message.startsWith('Cannot use OTEL_EXPORTER_OTLP_PROTOCOL="grpc": expected'),
    );
    await assert.rejects(Deno.stat(project.data), Deno.errors.NotFound);
  } finally {
    for (const [name, value] of before) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});
