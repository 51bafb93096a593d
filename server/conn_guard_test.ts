import assert from "node:assert/strict";
import { join } from "node:path";
import { createInProcessRunner } from "../engine/mod.ts";
import { type RunningServer, startServer } from "./start_server.ts";

const encoder = new TextEncoder();

/** A server whose one node takes `slowMs`, with short connection limits. */
async function guardedServer(
  limits: { headerTimeoutMs: number; idleTimeoutMs: number; maxConnections: number },
  slowMs = 0,
): Promise<RunningServer & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "pd-conn-guard-" });
  const dir = join(root, "flow");
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "workflow.yaml"),
    'name: guarded\nversion: "1.0.0"\nnodes:\n  slow: { path: ./nodes/slow.ts }\n',
  );
  await Deno.writeTextFile(
    join(dir, "nodes/slow.ts"),
    `export default async () => { await new Promise((r) => setTimeout(r, ${slowMs})); return { ok: true }; };\n`,
  );
  const runner = createInProcessRunner();
  const server = await startServer({
    dir,
    port: 0,
    host: "127.0.0.1",
    noAuth: true,
    dataDir: join(root, "data"),
    configDir: join(root, "none"),
    secretsDir: join(root, "none"),
    runner,
    graceMs: 0,
    connections: limits,
  });
  return Object.assign(server, {
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await runner.close();
      await Deno.remove(root, { recursive: true });
    },
  });
}

/** Resolves when the server closed `conn` (EOF or reset). */
async function closedByServer(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while ((await conn.read(buffer)) !== null) {
      // Drain whatever it sent.
    }
  } catch {
    // Reset: closed too.
  }
}

async function connect(server: RunningServer, bytes: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  if (bytes) await conn.write(encoder.encode(bytes));
  return conn;
}

Deno.test("`serve` drops 300 slow-header and silent sockets and keeps answering", async () => {
  await using server = await guardedServer({
    headerTimeoutMs: 300,
    idleTimeoutMs: 60_000,
    maxConnections: 100,
  });
  const slow: Deno.Conn[] = [];
  for (let i = 0; i < 300; i++) {
    slow.push(await connect(server, i % 3 === 0 ? "" : "GET /health HTTP/1.1\r\nHost: x\r\n"));
  }
  // While they are held, a real client still gets in (the oldest slow socket is evicted).
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  // Every slow socket is closed by the server: evicted at the limit or past the header timeout.
  await Promise.all(slow.map(closedByServer));
  for (const conn of slow) conn.close();
  const again = await fetch(`${server.url}/health`);
  assert.equal(again.status, 200);
  await again.body?.cancel();
});

Deno.test("`serve` closes an idle keep-alive connection and a stalled body, not a waiting request", async () => {
  await using server = await guardedServer(
    { headerTimeoutMs: 5_000, idleTimeoutMs: 300, maxConnections: 100 },
    1_500,
  );
  // A request that waits longer than idleTimeoutMs for its response gets it.
  const waiting = await connect(
    server,
    "POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
  );
  // A kept-alive connection that went quiet after its response.
  const idle = await connect(server, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  // A body that stops halfway.
  const stalled = await connect(
    server,
    'POST /runs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":',
  );
  await closedByServer(idle);
  await closedByServer(stalled);
  const buffer = new Uint8Array(65536);
  let answer = "";
  while (!/"status": ?"succeeded"[\s\S]*\}\s*$/.test(answer)) {
    const n = await waiting.read(buffer);
    assert.notEqual(n, null, `closed before the answer: ${answer}`);
    answer += new TextDecoder().decode(buffer.subarray(0, n!));
  }
  assert.match(answer, /^HTTP\/1\.1 200 /);
  for (const conn of [waiting, idle, stalled]) conn.close();
});
