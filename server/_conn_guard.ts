/**
 * A TCP front for `Deno.serve`, which has no header-read timeout and no connection limit: it
 * accepts the clients, relays each connection to the HTTP server's unix socket and drops the
 * clients that hold a connection without using it (slowloris, half-open sockets, idle
 * keep-alives), so that no client can exhaust the server's file descriptors or memory.
 *
 * It follows the request framing of HTTP/1.1 in the client → server direction (head until the
 * blank line, then a `Content-Length` or chunked body) to know which phase a connection is in:
 *
 * - reading a request head: the whole head must arrive within `headerTimeoutMs` of its first
 *   byte (of the connection's accept for the first request);
 * - reading a request body: some bytes must arrive every `idleTimeoutMs`;
 * - waiting for the response: no limit (a `POST /run` waits for its run);
 * - after the response started, with no next request: closed after `idleTimeoutMs` without a
 *   byte either way (event streams send a comment every 15 s, so they stay);
 * - at `maxConnections`, a new client evicts the connection idle for longest among those in
 *   the first or last phase, or is refused when every connection is busy.
 *
 * Anything it cannot frame (an upgrade, a malformed length) is relayed as is: the HTTP server
 * answers it.
 *
 * @module
 */

/** Options of {@link startConnGuard}. */
export interface ConnGuardOptions {
  hostname: string;
  port: number;
  /** Unix socket of the HTTP server the connections are relayed to. */
  backendPath: string;
  /** Time to send a complete request head. @default 10_000 */
  headerTimeoutMs?: number;
  /** Time a kept-alive connection (or a stalled request body) may stay silent. @default 30_000 */
  idleTimeoutMs?: number;
  /** Open client connections at most. @default 1024 */
  maxConnections?: number;
  /** How often timeouts are checked. @default min(1000, headerTimeoutMs / 4) */
  sweepMs?: number;
}

/** A running front. */
export interface ConnGuard {
  readonly addr: Deno.NetAddr;
  /** Client connections open now. */
  readonly open: number;
  /** Stops accepting; open connections end when the HTTP server closes them. */
  stopAccepting(): void;
  /** Closes every connection at once. */
  close(): Promise<void>;
}

const Phase = { Head: 0, Body: 1, Chunks: 2, Waiting: 3, Idle: 4, Opaque: 5 } as const;
type Phase = typeof Phase[keyof typeof Phase];

/** Longest request head followed; a longer one is left to the HTTP server (431). */
const MAX_HEAD = 64 * 1024;
const BUFFER = 64 * 1024;

/** Client → server framing of one connection. */
class RequestFraming {
  phase: Phase = Phase.Head;
  /** When the current head started (accept time for the first one). */
  headStart: number;
  /** Response bytes were seen since the last request completed. */
  responded = false;
  #head = "";
  #remaining = 0;
  /** Chunked body: 0 size line, 1 data, 2 CRLF after data, 3 trailer lines. */
  #chunkState = 0;
  #line = "";

  constructor(now: number) {
    this.headStart = now;
  }

  /** Follows the bytes a client sent. */
  feed(bytes: Uint8Array, now: number): void {
    let i = 0;
    while (i < bytes.length) {
      switch (this.phase) {
        case Phase.Opaque:
          return;
        case Phase.Waiting:
        case Phase.Idle:
          // The next request (pipelined or kept alive) starts.
          this.phase = Phase.Head;
          this.headStart = now;
          this.#head = "";
          break;
        case Phase.Head: {
          const end = Math.min(bytes.length, i + MAX_HEAD);
          const text = latin1(bytes.subarray(i, end));
          const searchFrom = Math.max(0, this.#head.length - 3);
          this.#head += text;
          const at = this.#head.indexOf("\r\n\r\n", searchFrom);
          if (at < 0) {
            if (this.#head.length > MAX_HEAD) this.phase = Phase.Opaque;
            return;
          }
          i = end - (this.#head.length - (at + 4));
          this.#startBody(this.#head.slice(0, at));
          this.#head = "";
          break;
        }
        case Phase.Body: {
          const take = Math.min(this.#remaining, bytes.length - i);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case Phase.Chunks:
          i = this.#chunks(bytes, i);
          break;
      }
    }
  }

  #startBody(head: string): void {
    const lines = head.split("\r\n").slice(1);
    let length: number | undefined;
    let chunked = false;
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === "content-length") {
        if (!/^[0-9]{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) {
          this.phase = Phase.Opaque;
          return;
        }
        length = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = true;
      } else if (name === "upgrade") {
        this.phase = Phase.Opaque;
        return;
      }
    }
    if (chunked) {
      this.phase = Phase.Chunks;
      this.#chunkState = 0;
      this.#line = "";
    } else if (length !== undefined && length > 0) {
      this.phase = Phase.Body;
      this.#remaining = length;
    } else {
      this.#complete();
    }
  }

  #chunks(bytes: Uint8Array, i: number): number {
    while (i < bytes.length && this.phase === Phase.Chunks) {
      if (this.#chunkState === 1) {
        const take = Math.min(this.#remaining, bytes.length - i);
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) {
          this.#chunkState = 2;
          this.#remaining = 2;
        }
        continue;
      }
      if (this.#chunkState === 2) {
        const take = Math.min(this.#remaining, bytes.length - i);
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) this.#chunkState = 0;
        continue;
      }
      // A size line or a trailer line.
      const byte = bytes[i++]!;
      if (byte !== 0x0a) {
        if (this.#line.length > 4096) {
          this.phase = Phase.Opaque;
          return bytes.length;
        }
        this.#line += String.fromCharCode(byte);
        continue;
      }
      const line = this.#line.replace(/\r$/, "");
      this.#line = "";
      if (this.#chunkState === 3) {
        if (line === "") this.#complete();
        continue;
      }
      const size = Number.parseInt(line.split(";")[0]!.trim(), 16);
      if (!Number.isSafeInteger(size) || size < 0) {
        this.phase = Phase.Opaque;
        return bytes.length;
      }
      if (size === 0) {
        this.#chunkState = 3;
      } else {
        this.#chunkState = 1;
        this.#remaining = size;
      }
    }
    return i;
  }

  #complete(): void {
    this.phase = Phase.Waiting;
    this.responded = false;
  }
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

interface Relay {
  client: Deno.Conn;
  backend?: Deno.Conn;
  framing: RequestFraming;
  lastActivity: number;
  closed: boolean;
}

/**
 * Listens on `hostname:port` and relays every accepted connection to `backendPath`.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken
 * @example
 * ```ts
 * import { startConnGuard } from "./_conn_guard.ts";
 * const server = Deno.serve({ path: "/tmp/pd.sock", onListen() {} }, () => new Response("ok"));
 * const guard = startConnGuard({ hostname: "127.0.0.1", port: 0, backendPath: "/tmp/pd.sock" });
 * guard.stopAccepting();
 * await server.shutdown();
 * await guard.close();
 * ```
 */
export function startConnGuard(options: ConnGuardOptions): ConnGuard {
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const maxConnections = options.maxConnections ?? 1024;
  for (const [name, value] of Object.entries({ headerTimeoutMs, idleTimeoutMs, maxConnections })) {
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`Cannot start the connection guard: ${name} must be > 0, got ${value}`);
    }
  }
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const relays = new Set<Relay>();
  let accepting = true;

  const close = (relay: Relay) => {
    if (relay.closed) return;
    relay.closed = true;
    relays.delete(relay);
    for (const conn of [relay.client, relay.backend]) {
      try {
        conn?.close();
      } catch {
        // Already closed.
      }
    }
  };

  /** Whether a connection holds nothing in flight (may be dropped under pressure). */
  const evictable = (r: Relay) =>
    r.framing.phase === Phase.Head || (r.framing.phase === Phase.Idle);

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const relay of relays) {
      const { framing } = relay;
      const overdue = framing.phase === Phase.Head
        ? now - framing.headStart > headerTimeoutMs
        : (framing.phase === Phase.Idle || framing.phase === Phase.Body ||
          framing.phase === Phase.Chunks) && now - relay.lastActivity > idleTimeoutMs;
      if (overdue) close(relay);
    }
  }, options.sweepMs ?? Math.max(10, Math.min(1000, headerTimeoutMs / 4)));

  const relay = async (relay: Relay) => {
    const { client } = relay;
    try {
      relay.backend = await Deno.connect({ transport: "unix", path: options.backendPath });
      if (relay.closed) return close(relay);
      const backend = relay.backend;
      const upstream = (async () => {
        const buffer = new Uint8Array(BUFFER);
        for (;;) {
          const n = await client.read(buffer);
          if (n === null) break;
          const now = Date.now();
          relay.lastActivity = now;
          relay.framing.feed(buffer.subarray(0, n), now);
          await writeAll(backend, buffer.subarray(0, n));
        }
        await backend.closeWrite().catch(() => {});
      })();
      const downstream = (async () => {
        const buffer = new Uint8Array(BUFFER);
        for (;;) {
          const n = await backend.read(buffer);
          if (n === null) break;
          relay.lastActivity = Date.now();
          const { framing } = relay;
          if (framing.phase === Phase.Waiting) framing.phase = Phase.Idle;
          framing.responded = true;
          await writeAll(client, buffer.subarray(0, n));
        }
      })();
      // The server ending its side ends the connection; a client's half-close does not.
      await Promise.race([downstream, upstream.then(() => downstream)]);
    } catch {
      // Reset by either side, or closed by the guard.
    } finally {
      close(relay);
    }
  };

  const accepted = (async () => {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await listener.accept();
      } catch {
        return; // listener closed
      }
      if (!accepting) {
        client.close();
        continue;
      }
      if (relays.size >= maxConnections) {
        let victim: Relay | undefined;
        for (const r of relays) {
          if (evictable(r) && (!victim || r.lastActivity < victim.lastActivity)) victim = r;
        }
        if (!victim) {
          client.close();
          continue;
        }
        close(victim);
      }
      // Response bytes go out as they come (no Nagle delay waiting for the client's ACK).
      try {
        (client as Deno.TcpConn).setNoDelay(true);
      } catch {
        // Already reset by the client.
      }
      const now = Date.now();
      const r: Relay = {
        client,
        framing: new RequestFraming(now),
        lastActivity: now,
        closed: false,
      };
      relays.add(r);
      void relay(r);
    }
  })();

  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    try {
      listener.close();
    } catch {
      // Already closed.
    }
  };

  return {
    addr: listener.addr as Deno.NetAddr,
    get open() {
      return relays.size;
    },
    stopAccepting,
    async close() {
      stopAccepting();
      clearInterval(sweep);
      for (const r of [...relays]) close(r);
      await accepted;
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
