import assert from "node:assert/strict";
import { compareVersions, normaliseVersion, suggestVersion } from "./_semver.ts";

Deno.test("`normaliseVersion()` accepts semver and MAJOR.MINOR", () => {
  const table: [string, string | undefined][] = [
    ["1.0", "1.0.0"],
    ["1.10", "1.10.0"],
    ["0.1.0", "0.1.0"],
    ["1.2.3-rc.1", "1.2.3-rc.1"],
    ["1.2.3-alpha-beta.0.x+sha.5114f85", "1.2.3-alpha-beta.0.x+sha.5114f85"],
    ["1", undefined],
    ["v1.2.3", undefined],
    ["01.2.3", undefined],
    ["1.2.3.4", undefined],
    ["1.2.3-01", undefined],
    ["1.2.3-", undefined],
    ["1.0-beta", undefined],
    ["", undefined],
  ];
  for (const [text, expected] of table) assert.equal(normaliseVersion(text), expected, text);
});

Deno.test("`suggestVersion()` proposes the closest valid version", () => {
  const table: [string, string][] = [["v1.2.3", "1.2.3"], ["2", "2.0.0"], ["1.2.3.4", "1.2.3"], [
    "latest",
    "1.0.0",
  ], ["01.02", "1.2.0"]];
  for (const [text, expected] of table) assert.equal(suggestVersion(text), expected, text);
});

Deno.test("`compareVersions()` follows semver precedence", () => {
  const sorted = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.2.0",
    "1.10.0",
    "2.0.0",
  ];
  const shuffled = [...sorted].reverse();
  assert.deepEqual(shuffled.sort(compareVersions), sorted);
  assert.equal(compareVersions("1.0.0+build.1", "1.0.0+build.2"), 0);
  assert.equal(compareVersions("1.0", "1.0.0"), 0);
  assert.throws(() => compareVersions("1.0.0", "nope"), {
    name: "RangeError",
    message: 'Cannot compare versions: "nope" is not semver',
  });
});
