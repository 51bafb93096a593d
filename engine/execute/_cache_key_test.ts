import assert from "node:assert/strict";
import { cacheKey, stableJson } from "./_cache_key.ts";

Deno.test("`stableJson()` sorts keys at every level and follows JSON.stringify", () => {
  const table: [unknown, string | undefined][] = [
    [
      { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } },
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    ],
    [{ a: undefined, b: () => 1 }, "{}"],
    [[undefined, NaN, "x"], '[null,null,"x"]'],
    [new Date(0), '"1970-01-01T00:00:00.000Z"'],
    [undefined, undefined],
    ["é\n", '"é\\n"'],
  ];
  for (const [value, want] of table) assert.equal(stableJson(value), want);
});

Deno.test("`stableJson()` rejects circular values and BigInt", () => {
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(() => stableJson(loop), /circular reference at "self"/);
  assert.throws(() => stableJson({ n: 1n }), TypeError);
  const shared = { x: 1 };
  assert.equal(stableJson([shared, shared]), '[{"x":1},{"x":1}]');
});

Deno.test("`cacheKey()` depends on code hash, input and config but not key order", async () => {
  const key = await cacheKey({ codeHash: "h1" }, { a: 1, b: 2 }, { t: 1 });
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(await cacheKey({ codeHash: "h1" }, { b: 2, a: 1 }, { t: 1 }), key);
  assert.notEqual(await cacheKey({ codeHash: "h2" }, { a: 1, b: 2 }, { t: 1 }), key);
  assert.notEqual(await cacheKey({ codeHash: "h1" }, { a: 1, b: 3 }, { t: 1 }), key);
  assert.notEqual(await cacheKey({ codeHash: "h1" }, { a: 1, b: 2 }, { t: 2 }), key);
  assert.notEqual(
    await cacheKey({ codeHash: "h1" }, undefined, {}),
    await cacheKey({ codeHash: "h1" }, null, {}),
  );
});
