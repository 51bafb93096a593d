/**
 * An incremental parser of `text/event-stream` (the WHATWG server-sent events format), used
 * with `fetch()` streaming: EventSource cannot send an `Authorization` header, and putting the
 * long-lived API token in a URL would leak it into access logs.
 *
 * @module
 */

/** One dispatched event. */
export interface SseEvent {
  /** `event:` field; "message" when absent. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  /** `id:` field of this event, if it had one. */
  id?: string;
}

/**
 * Feed it decoded text chunks as they arrive (split anywhere, even inside a line or a CRLF);
 * it returns the events completed so far. Comments (`: keep-alive`) are ignored; `retry:` is
 * kept in {@link SseParser.retryMs}; `lastEventId` follows the spec (it persists across events).
 *
 * @example
 * ```ts
 * const parser = new SseParser();
 * parser.push("event: log\nid: 3\ndata: {\"msg\":\"hi\"}\n");
 * parser.push("\n"); // [{ event: "log", data: "{\"msg\":\"hi\"}", id: "3" }]
 * ```
 */
export class SseParser {
  /** The last `id:` seen (send it as Last-Event-ID when reconnecting). */
  lastEventId = "";
  /** The server's `retry:` advice in milliseconds, if any. */
  retryMs: number | undefined;
  #buffer = "";
  #pendingCr = false;
  #data: string[] = [];
  #event = "";
  #id: string | undefined;

  /** Parses one chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.#pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer[i];
      if (c !== "\n" && c !== "\r") continue;
      const line = this.#buffer.slice(start, i);
      if (c === "\r") {
        if (i + 1 === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer[i + 1] === "\n") i++;
      }
      start = i + 1;
      const event = this.#line(line);
      if (event) events.push(event);
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = this.lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const id = this.#id;
    const hadData = this.#data.length > 0;
    const event: SseEvent = { event: this.#event || "message", data: this.#data.join("\n") };
    this.#data = [];
    this.#event = "";
    this.#id = undefined;
    if (!hadData) return undefined;
    if (id !== undefined) event.id = id;
    return event;
  }
}
