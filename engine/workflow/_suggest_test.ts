import assert from "node:assert/strict";
import { closest, didYouMean, editDistance } from "./_suggest.ts";

Deno.test("`editDistance()` counts edits and stops early past the limit", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("same", "same"), 0);
  assert.equal(editDistance("kitten", "sitting", 1), 2);
  assert.equal(editDistance("a", "abcdef", 2), 3);
});

Deno.test("`closest()` finds typos, other spellings and prefixes", () => {
  const keys = ["path", "command", "capabilities", "timeout", "retries", "allowFailure", "cache"];
  const table: [string, string | undefined][] = [
    ["retry", "retries"],
    ["timout", "timeout"],
    ["allow_failure", "allowFailure"],
    ["Capabilities", "capabilities"],
    ["comand", "command"],
    ["xyz", undefined],
    ["dependsOn", undefined],
  ];
  for (const [input, expected] of table) assert.equal(closest(input, keys), expected, input);
});

Deno.test("`didYouMean()` falls back to listing what is allowed", () => {
  assert.equal(didYouMean("nodez", ["name", "nodes"]), 'Did you mean "nodes"?');
  assert.equal(didYouMean("zzz", ["from", "to"]), "Allowed keys: from, to");
  assert.equal(didYouMean("zzz", ["cron"], "types"), "Allowed types: cron");
});
