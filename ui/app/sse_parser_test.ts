import assert from "node:assert/strict";
import { type SseEvent, SseParser } from "./sse_parser.ts";

const STREAM = 'retry: 1000\n\n: keep-alive\n\nid: 1\nevent: log\ndata: {"msg":"a"}\n\n' +
  'event: node\ndata: {"x":1}\n\nid: 2\nevent: log\ndata: line 1\ndata: line 2\n\n';

function parseInChunks(text: string, size: number): { events: SseEvent[]; parser: SseParser } {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
  return { events, parser };
}

Deno.test("`SseParser` gives the same events however the stream is split", () => {
  const expected: SseEvent[] = [
    { event: "log", data: '{"msg":"a"}', id: "1" },
    { event: "node", data: '{"x":1}' },
    { event: "log", data: "line 1\nline 2", id: "2" },
  ];
  for (const size of [1, 2, 3, 7, 1000]) {
    const { events, parser } = parseInChunks(STREAM, size);
    assert.deepEqual(events, expected, `chunks of ${size}`);
    assert.equal(parser.lastEventId, "2");
    assert.equal(parser.retryMs, 1000);
  }
});

Deno.test("`SseParser` accepts CRLF and CR line ends, split between chunks", () => {
  const crlf = STREAM.replaceAll("\n", "\r\n");
  const cr = STREAM.replaceAll("\n", "\r");
  for (const text of [crlf, cr]) {
    for (const size of [1, 4, 1000]) {
      assert.equal(
        parseInChunks(text, size).events.length,
        3,
        `${JSON.stringify(text.slice(0, 14))} / ${size}`,
      );
    }
  }
});

Deno.test("`SseParser` follows the spec's field rules", () => {
  const parser = new SseParser();
  const table: [string, SseEvent[]][] = [
    ["data\n\n", [{ event: "message", data: "" }]],
    ["data:no space\n\n", [{ event: "message", data: "no space" }]],
    ["data:  two spaces\n\n", [{ event: "message", data: " two spaces" }]],
    ["event: only\n\n", []],
    ["unknown: x\ndata: y\n\n", [{ event: "message", data: "y" }]],
    ["retry: soon\ndata: z\n\n", [{ event: "message", data: "z" }]],
    ["id: a\0b\ndata: w\n\n", [{ event: "message", data: "w" }]],
  ];
  for (const [text, events] of table) {
    assert.deepEqual(parser.push(text), events, JSON.stringify(text));
  }
  assert.equal(parser.retryMs, undefined);
  assert.equal(parser.lastEventId, "");
  assert.deepEqual(parser.push("data: incomplete\n"), []);
});
