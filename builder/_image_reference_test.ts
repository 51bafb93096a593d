import { strict as assert } from "node:assert";
import {
  formatImageReference,
  isLoopbackRegistry,
  parseImageReference,
} from "./_image_reference.ts";

Deno.test("`parseImageReference()` reads registry, repository, tag and digest like docker", async (t) => {
  const digest = `sha256:${"ab".repeat(32)}`;
  const cases: [string, ReturnType<typeof parseImageReference>][] = [
    ["gcr.io/distroless/cc-debian12:nonroot", {
      registry: "gcr.io",
      repository: "distroless/cc-debian12",
      tag: "nonroot",
      digest: undefined,
    }],
    ["127.0.0.1:5000/team/app:1.0.0", {
      registry: "127.0.0.1:5000",
      repository: "team/app",
      tag: "1.0.0",
      digest: undefined,
    }],
    ["localhost/app", {
      registry: "localhost",
      repository: "app",
      tag: undefined,
      digest: undefined,
    }],
    ["ubuntu", {
      registry: "docker.io",
      repository: "library/ubuntu",
      tag: undefined,
      digest: undefined,
    }],
    ["acme/tool:v2", {
      registry: "docker.io",
      repository: "acme/tool",
      tag: "v2",
      digest: undefined,
    }],
    [`ghcr.io/a/b@${digest}`, { registry: "ghcr.io", repository: "a/b", tag: undefined, digest }],
    [`ghcr.io/a/b:t@${digest}`, { registry: "ghcr.io", repository: "a/b", tag: "t", digest }],
  ];
  for (const [text, expected] of cases) {
    await t.step(text, () => assert.deepEqual(parseImageReference(text), expected));
  }
});

Deno.test("`parseImageReference()` rejects malformed references and names the bad part", async (t) => {
  const cases: [string, RegExp][] = [
    ["ghcr.io/Upper/app", /repository "Upper\/app" must be lowercase/],
    ["app:bad tag", /tag "bad tag" may use only/],
    ["app@sha256:xyz", /digest "sha256:xyz" is not/],
    ["ghcr.io/", /repository "" must be/],
  ];
  for (const [text, message] of cases) {
    await t.step(
      text,
      () =>
        assert.throws(
          () => parseImageReference(text),
          (e) => e instanceof TypeError && message.test(e.message),
        ),
    );
  }
});

Deno.test("`formatImageReference()` round-trips", () => {
  const text = "127.0.0.1:5000/team/app:1.0.0";
  assert.equal(formatImageReference(parseImageReference(text)), text);
});

Deno.test("`isLoopbackRegistry()` accepts only loopback hosts", async (t) => {
  const cases: [string, boolean][] = [
    ["localhost:5000", true],
    ["127.0.0.1:5000", true],
    ["127.8.9.10", true],
    ["[::1]:5000", true],
    ["localhost.evil.com:5000", false],
    ["127.0.0.1.nip.io", false],
    ["10.0.0.1:5000", false],
    ["ghcr.io", false],
  ];
  for (const [host, expected] of cases) {
    await t.step(host, () => assert.equal(isLoopbackRegistry(host), expected));
  }
});
