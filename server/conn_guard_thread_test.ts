import assert from "node:assert/strict";
import { join } from "node:path";
import { startConnGuardThread } from "./_conn_guard_thread.ts";

Deno.test("startConnGuardThread() relays to the unix socket from its own thread and closes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pd-guard-thread-" });
  const backendPath = join(dir, "http.sock");
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { path: backendPath, onListen: () => ready.resolve() },
    () => new Response("relayed"),
  );
  await ready.promise;
  try {
    const guard = await startConnGuardThread({ hostname: "127.0.0.1", port: 0, backendPath });
    const response = await fetch(`http://127.0.0.1:${guard.addr.port}/`);
    assert.equal(await response.text(), "relayed");
    guard.stopAccepting();
    await guard.close();
    await assert.rejects(fetch(`http://127.0.0.1:${guard.addr.port}/`));
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startConnGuardThread() rejects with the guard's own errors: a taken port, a bad limit", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    await assert.rejects(
      startConnGuardThread({ hostname: "127.0.0.1", port, backendPath: "/nonexistent" }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
  await assert.rejects(
    startConnGuardThread({
      hostname: "127.0.0.1",
      port: 0,
      backendPath: "/nonexistent",
      headerTimeoutMs: -1,
    }),
    (error: Error) =>
      error instanceof RangeError && /headerTimeoutMs must be > 0/.test(error.message),
  );
});
