import assert from "node:assert/strict";
import type { ConcurrencySettings } from "../engine/mod.ts";
import { KeySlots, messageKey } from "./_key_slots.ts";

const KEYED: ConcurrencySettings = {
  maxRuns: 1,
  queueLimit: 10,
  strategy: "append",
  startDelayMs: 0,
  key: "/tenant",
};
const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("`messageKey()` reads the key from the decoded payload; undecodable is the empty key", () => {
  assert.equal(messageKey(KEYED, bytes('{"tenant":"acme"}'), undefined), "acme");
  assert.equal(messageKey(KEYED, bytes('{"tenant":"acme"}'), "application/json"), "acme");
  assert.equal(messageKey(KEYED, bytes("{broken"), "application/json"), "");
  assert.equal(messageKey(KEYED, bytes("tenant=acme"), "text/plain"), "");
  assert.equal(messageKey(undefined, bytes('{"tenant":"acme"}'), undefined), "");
});

Deno.test("`KeySlots` hands a key's slot to its waiting deliveries in order; abort leaves the line", async () => {
  const slots = new KeySlots(KEYED);
  const controller = new AbortController();
  assert.ok(slots.tryTake("a"));
  assert.ok(slots.tryTake("b"), "another key has its own slot");
  const order: string[] = [];
  const first = slots.take("a", controller.signal).then(() => order.push("first"));
  const leaver = new AbortController();
  const second = slots.take("a", leaver.signal);
  const third = slots.take("a", controller.signal).then(() => order.push("third"));
  assert.equal(slots.parked, 3);
  assert.equal(slots.tryTake("a"), false, "no jumping the line");
  leaver.abort(new Error("stopped"));
  await assert.rejects(second, /stopped/);
  assert.equal(slots.parked, 2);
  slots.release("a");
  await first;
  slots.release("a");
  await third;
  assert.deepEqual(order, ["first", "third"]);
  slots.release("a");
  assert.ok(slots.free("a"));
  assert.equal(slots.parked, 0);
});

Deno.test("`KeySlots` without a key never refuses a slot", () => {
  const slots = new KeySlots({ ...KEYED, key: undefined });
  for (let i = 0; i < 1000; i++) assert.ok(slots.tryTake(""));
});
