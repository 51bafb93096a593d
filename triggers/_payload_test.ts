import assert from "node:assert/strict";
import { decodePayload } from "./_payload.ts";

const text = (s: string) => new TextEncoder().encode(s);
const binary = new Uint8Array([0xff, 0x00, 0xfe, 0x80]);

for (
  const [name, data, contentType, input] of [
    ["JSON without a Content-Type", text('{"a":1}'), undefined, { a: 1 }],
    ["JSON with application/json", text("[1,2]"), "application/json", [1, 2]],
    [
      "JSON with a +json type and charset",
      text('"x"'),
      "application/cloudevents+json; charset=utf-8",
      "x",
    ],
    ["an empty payload", new Uint8Array(), "application/json", {}],
    ["text without a Content-Type", text("hello"), undefined, {
      contentType: "text/plain",
      data: "hello",
    }],
    ["text/csv", text("a,b\n1,2"), "text/csv", { contentType: "text/csv", data: "a,b\n1,2" }],
    [
      "form data",
      text("a=1&b=2"),
      "application/x-www-form-urlencoded",
      { contentType: "application/x-www-form-urlencoded", data: "a=1&b=2" },
    ],
    ["binary without a Content-Type", binary, undefined, {
      contentType: "application/octet-stream",
      base64: "/wD+gA==",
    }],
    ["image/png", binary, "image/png", { contentType: "image/png", base64: "/wD+gA==" }],
    ["text/plain that is not UTF-8", binary, "text/plain", {
      contentType: "text/plain",
      base64: "/wD+gA==",
    }],
  ] as const
) {
  Deno.test(`\`decodePayload()\` decodes ${name}`, () => {
    assert.deepEqual(decodePayload(data, contentType), { ok: true, input });
  });
}

Deno.test("`decodePayload()` refuses a payload declared JSON that does not parse", () => {
  const decoded = decodePayload(text("{nope"), "application/json");
  assert.equal(decoded.ok, false);
  assert.match(
    !decoded.ok ? decoded.error : "",
    /^Cannot decode the payload as JSON \(Content-Type "application\/json"\): /,
  );
});

Deno.test("`decodePayload()` base64-encodes large binary payloads losslessly", () => {
  const data = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
  data[0] = 0xff; // not UTF-8
  const decoded = decodePayload(data, "application/octet-stream");
  assert.ok(decoded.ok);
  const base64 = (decoded.input as { base64: string }).base64;
  assert.deepEqual(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)), data);
});
