/**
 * A second process writing to a SQLite run store, driven by store/sqlite_store_test.ts:
 * - `crash <db>`: writes a run and a node transition, prints "written", then waits to be killed;
 * - `create <db> <runId>`: opens, prints "ready", waits for a line on stdin, then creates the
 *   run with the idempotency key "shared" and prints `{ created, runId }`.
 */

import { SqliteStore } from "../sqlite_store.ts";

const [mode, path, runId] = Deno.args;
const store = await SqliteStore.open(path!);
if (mode === "crash") {
  await store.createRun({
    runId: "crash",
    workflow: "demo",
    version: "1.0.0",
    status: "running",
    input: {},
    nodes: {},
  });
  await store.updateNode("crash", "a", { status: "succeeded", attempts: 1, output: { ok: "ü" } });
  console.log("written");
  setInterval(() => {}, 1 << 30); // keeps the process alive until the test kills it
} else if (mode === "create") {
  console.log("ready");
  for await (const _ of Deno.stdin.readable) break;
  const { created, record } = await store.createRun(
    { runId: runId!, workflow: "demo", version: "1.0.0", status: "queued", input: {}, nodes: {} },
    { idempotencyKey: "shared" },
  );
  console.log(JSON.stringify({ created, runId: record.runId }));
  await store.close();
}
