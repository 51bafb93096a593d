import assert from "node:assert/strict";
import { parseImageRef, pullPolicy, rewriteRegistry } from "./_image.ts";

const DIGEST = `sha256:${"c".repeat(64)}`;

for (
  const [ref, expected] of [
    ["alpine", { repository: "alpine" }],
    ["alpine:3.20", { repository: "alpine", tag: "3.20" }],
    ["library/alpine", { repository: "library/alpine" }],
    ["ghcr.io/acme/engine:1.0.0", { registry: "ghcr.io", repository: "acme/engine", tag: "1.0.0" }],
    ["localhost:5000/engine", { registry: "localhost:5000", repository: "engine" }],
    ["localhost/engine:x", { registry: "localhost", repository: "engine", tag: "x" }],
    [`r.io/a@${DIGEST}`, { registry: "r.io", repository: "a", digest: DIGEST }],
    [`r.io/a:1@${DIGEST}`, { registry: "r.io", repository: "a", tag: "1", digest: DIGEST }],
  ] as const
) {
  Deno.test(`parseImageRef() parses "${ref}"`, () => {
    const parsed = parseImageRef(ref);
    assert.deepEqual(
      Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)),
      expected,
    );
  });
}

for (const bad of ["", "UPPER/case", "a b", "r.io/a@sha256:xyz", "a:bad tag"]) {
  Deno.test(`parseImageRef() rejects ${JSON.stringify(bad)} with a reason`, () => {
    assert.throws(() => parseImageRef(bad), /^TypeError: Cannot parse image reference/);
  });
}

for (
  const [ref, cluster, expected] of [
    ["localhost:5000/engine:1", "registry:5000", "registry:5000/engine:1"],
    ["engine:1", "registry.internal", "registry.internal/engine:1"],
    [
      `ghcr.io/acme/engine@${DIGEST}`,
      "https://mirror.local/",
      `mirror.local/acme/engine@${DIGEST}`,
    ],
    ["ghcr.io/acme/engine:1", undefined, "ghcr.io/acme/engine:1"],
  ] as const
) {
  Deno.test(`rewriteRegistry() moves "${ref}" to ${cluster ?? "(none)"}`, () => {
    assert.equal(rewriteRegistry(ref, cluster), expected);
  });
}

Deno.test("pullPolicy() always pulls a tag (it may move) and trusts a digest", () => {
  assert.equal(pullPolicy("ghcr.io/acme/engine:1.0.0"), "Always");
  assert.equal(pullPolicy("ghcr.io/acme/engine"), "Always");
  assert.equal(pullPolicy(`ghcr.io/acme/engine@${DIGEST}`), "IfNotPresent");
});
