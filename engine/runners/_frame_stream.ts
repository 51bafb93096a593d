/**
 * JSON lines over a Deno connection (the Unix socket between the engine and a sandbox
 * process): one message per line, written in order, whole, however the socket splits them.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Writes messages in order; several queued in one turn go out in one write. `onWritten` is
 * called each time everything queued has been written to the connection.
 */
export class LineWriter {
  #conn: Promise<Deno.Conn>;
  #queue: Uint8Array[] = [];
  #flushing = false;
  #closed = false;
  #onError: (error: unknown) => void;
  #onWritten?: () => void;

  constructor(
    conn: Promise<Deno.Conn>,
    onError: (error: unknown) => void,
    onWritten?: () => void,
  ) {
    this.#conn = conn;
    this.#onError = onError;
    this.#onWritten = onWritten;
  }

  /** Queues one message. @throws {TypeError} When it cannot be encoded as JSON. */
  send(message: unknown): void {
    if (this.#closed) return;
    this.#queue.push(encoder.encode(JSON.stringify(message) + "\n"));
    if (!this.#flushing) this.#flush();
  }

  /** Drops what is queued and sends nothing more. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      const conn = await this.#conn;
      while (this.#queue.length > 0 && !this.#closed) {
        const chunk = this.#queue.length === 1 ? this.#queue[0]! : concat(this.#queue);
        this.#queue = [];
        let offset = 0;
        while (offset < chunk.length) offset += await conn.write(chunk.subarray(offset));
      }
      if (!this.#closed) this.#onWritten?.();
    } catch (error) {
      this.#closed = true;
      this.#onError(error);
    } finally {
      this.#flushing = false;
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Reads `conn` to its end, calling `onLine` with each line (without its newline). Resolves at
 * the end of the stream; rejects when reading fails.
 */
export async function readLines(conn: Deno.Conn, onLine: (line: string) => void): Promise<void> {
  const buffer = new Uint8Array(1 << 16);
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    pending += decoder.decode(buffer.subarray(0, n), { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line !== "") onLine(line);
    }
  }
}
