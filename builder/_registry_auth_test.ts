import { strict as assert } from "node:assert";
import { authorizationFor, parseChallenge } from "./_registry_auth.ts";

Deno.test("`parseChallenge()` reads basic and bearer challenges", async (t) => {
  const cases: [string, ReturnType<typeof parseChallenge>][] = [
    ['Basic realm="Registry Realm"', { scheme: "basic", params: { realm: "Registry Realm" } }],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push"',
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/ubuntu:pull,push",
        },
      },
    ],
    ['bearer Realm="https://a/t", error="insufficient_scope"', {
      scheme: "bearer",
      params: { realm: "https://a/t", error: "insufficient_scope" },
    }],
    ["Negotiate abc", undefined],
    ["", undefined],
  ];
  for (const [header, expected] of cases) {
    await t.step(header || "(empty)", () => assert.deepEqual(parseChallenge(header), expected));
  }
});

Deno.test("`authorizationFor()` exchanges an identity token with a refresh_token grant", async () => {
  let body = "";
  const fetchToken: typeof fetch = (_input, init) => {
    body = String(init?.body);
    return Promise.resolve(Response.json({ access_token: "issued" }));
  };
  const header = await authorizationFor(
    {
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "svc", scope: "repository:a:pull" },
    },
    { identityToken: "refresh-123" },
    { fetch: fetchToken, checkUrl: () => {} },
  );
  assert.equal(header, "Bearer issued");
  const form = new URLSearchParams(body);
  assert.equal(form.get("grant_type"), "refresh_token");
  assert.equal(form.get("refresh_token"), "refresh-123");
  assert.equal(form.get("service"), "svc");
  assert.equal(form.get("scope"), "repository:a:pull");
});

Deno.test("`authorizationFor()` explains a refused token request without the password", async () => {
  const refuse: typeof fetch = () => Promise.resolve(new Response("no", { status: 401 }));
  await assert.rejects(
    authorizationFor(
      { scheme: "bearer", params: { realm: "https://auth.example/token" } },
      { username: "u", password: "hunter2" },
      { fetch: refuse, checkUrl: () => {} },
    ),
    (e) =>
      e instanceof Error && /HTTP 401 \(check the credentials/.test(e.message) &&
      !e.message.includes("hunter2"),
  );
});
