/**
 * Connection limits of a real `pipedreamer serve` process with its default settings: 1,100
 * half-open sockets (a request head that never ends, or nothing at all) are all closed by the
 * server, while a real client is still answered.
 */

import assert from "node:assert/strict";
import { ROOT, tempDir } from "./_cli.ts";
import { startServe } from "./_serve.ts";

const SOCKETS = 1_100;

Deno.test("`pipedreamer serve` drops 1,100 half-open sockets and keeps answering", async () => {
  await using data = await tempDir();
  await using server = await startServe([
    "serve",
    `${ROOT}/examples/hello-world`,
    ...["--port", "0", "--host", "127.0.0.1", "--no-auth", "--data", data.path],
  ]);
  const held: Deno.Conn[] = [];
  const closed: Promise<void>[] = [];
  try {
    for (let i = 0; i < SOCKETS; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      if (i % 2) await conn.write(new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: x\r\n"));
      held.push(conn);
      closed.push((async () => {
        const buffer = new Uint8Array(1024);
        try {
          while ((await conn.read(buffer)) !== null) {
            // Whatever it answers before closing.
          }
        } catch {
          // Reset: closed too.
        }
      })());
    }
    // Over the connection limit (1024): the oldest idle sockets were evicted, a client gets in.
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    // The rest are closed at the header timeout (10 s).
    await Promise.all(closed);
    const again = await fetch(`${server.url}/health`);
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal((await server.stop("SIGTERM")).code, 0, server.stderr());
  } finally {
    for (const conn of held) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
});
